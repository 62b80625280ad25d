"""The deliverypipeline web app: environment info with exact, durable call counting.

`python -m webapp` serves it (Bottle under waitress); see `webapp/config.py` for the environment it reads.
"""
