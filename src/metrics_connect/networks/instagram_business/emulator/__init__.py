"""Emulator of the Instagram Graph API (Instagram API with Facebook Login).

`build_sandbox()` (in `network`) gives an independent emulator: an ASGI app plus its
controls and the raw-truth model (`InstagramSandbox`). See docs/sandbox-instagram.md.
"""

from metrics_connect.networks.instagram_business.emulator.model import InstagramSandbox, MediaItem

__all__ = ["InstagramSandbox", "MediaItem"]
