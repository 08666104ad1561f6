"""Meta Ads' archive: the ad account's money snapshot (balance, spend cap), once a run."""
