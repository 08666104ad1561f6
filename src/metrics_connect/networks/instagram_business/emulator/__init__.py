"""Emulator of the Instagram Graph API (Instagram API with Facebook Login): `network.build_sandbox`
gives an independent one (see docs/sandbox-instagram.md)."""
