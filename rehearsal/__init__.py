"""The rehearsal: the whole pipeline once in a throwaway AWS account, before production trusts it.

    python -m rehearsal --image REPOSITORY --good-tag TAG --held-tag TAG     (make aws-rehearsal)
    python -m rehearsal --endpoint-url URL --front URL                      (against the sandbox)

It provisions both stacks under a unique prefix through the commands a user runs (`make provision`,
`make deploy-controller`), catches every `aws.elasticbeanstalk` event with a catch-all EventBridge rule
into CloudWatch Logs, runs four deployments through the real controller (`python -m controller.client`): a
good one, a broken one, a held one that it promotes, and a rollback; then it writes `rehearsal-report.json`
and a readable summary of each deployment (steps, timings, AWS calls, events) with the differences from
what the emulation does in the same scenario (`emulation-reference.json`), and deletes everything, also on
failure or Ctrl-C (`--keep` leaves it and prints how to remove it).

It uses the product only through its public commands (import-linter keeps it so): make targets, the CI
client, and AWS's own APIs to read what happened.
"""
