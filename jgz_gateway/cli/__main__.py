from . import app

if __name__ == "__main__":  # not when a spawned process (the validation helper) re-imports it
    app()
