"""The metric analysis: what production did after the swap, measured through CloudWatch (`checks`: the
checks and their defaults; `settings`: ANALYSIS_CHECKS; `metrics`: the questions to CloudWatch and its
answers; `window`: what a deployment asks; `verdict`: the checks judged)."""
