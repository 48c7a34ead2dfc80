"""Platform adapters: each speaks one platform's API and normalises its updates."""
