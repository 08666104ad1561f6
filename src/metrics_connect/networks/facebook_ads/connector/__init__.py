"""Meta Ads (Marketing API insights) connector."""
