"""Instagram Business (Instagram Graph API through Facebook Login) connector."""
