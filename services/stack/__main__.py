"""`python -m services.stack` is the `inbetwin` command."""

from services.stack.cli import main

if __name__ == "__main__":
    main()
