"""Asynchronous report tasks: statuses per check, finished once a check said so; report
rows as a CSV file; page_info pages."""

from __future__ import annotations

from metrics_connect.sandbox.kit.paging import page_info_page
from metrics_connect.sandbox.kit.report_tasks import TaskBook, rows_csv


def test_a_task_answers_its_statuses_then_done() -> None:
    book: TaskBook[str] = TaskBook(("QUEUED", "RUNNING"), done="DONE")
    task = book.create("the query")
    other = book.create("another")
    assert task in book and "nope" not in book and task != other
    assert book.query(task) == "the query"
    seen = []
    for _ in range(4):
        seen.append((book.finished(task), book.check(task)))
    assert seen == [(False, "QUEUED"), (False, "RUNNING"), (False, "DONE"), (True, "DONE")]
    assert book.finished(task) and not book.finished(other)


def test_rows_as_csv() -> None:
    rows = [
        {"dimensions": {"id": "1", "day": "2026-01-01"}, "metrics": {"spend": "1.50"}},
        {"dimensions": {"id": "2"}, "metrics": {"spend": "0.00", "name": "A, B"}},
    ]
    text = rows_csv(rows, ("id", "day"), ("spend", "name"))
    assert text.splitlines() == ["id,day,spend,name", "1,2026-01-01,1.50,", '2,,0.00,"A, B"']


def test_page_info_pages() -> None:
    page = page_info_page(list(range(25)), 3, 10)
    assert page["list"] == list(range(20, 25))
    assert page["page_info"] == {"page": 3, "page_size": 10, "total_number": 25, "total_page": 3}
    assert page_info_page([], 1, 10) == {
        "list": [],
        "page_info": {"page": 1, "page_size": 10, "total_number": 0, "total_page": 0},
    }
