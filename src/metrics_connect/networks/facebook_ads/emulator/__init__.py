"""Meta Marketing API emulator (ad account, campaigns, ad sets, ads, insights)."""
