"""The parity harness: targets, snapshots and their placeholders, the run's ledger, the Beanstalk stage.

Learned from LocalStack's snapshot testing (localstack-snapshot: `snapshot.match(key, response)`,
transformers that turn ids and dates into placeholders, a recorded file per test), written for this
project: snapshots name their provenance (AWS's documentation or a recording from an account), and a
documented snapshot holds only what AWS documents.
"""
