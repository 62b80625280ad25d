#!/usr/bin/env bash
# The platform `make provision` gives the provisioning stack: scripts/solution-stack.sh INFRA_STACK [NAME]
#
# Prints NAME when one is given (make provision SOLUTION_STACK="..."). Otherwise, for a stack that does not
# exist yet, the newest Docker platform version of the PLATFORM_OS branch (default Amazon Linux 2023) that
# Elastic Beanstalk offers now: it retires old versions, so a pinned one is refused for new environments
# ("No Solution Stack named '...' found.") - https://docs.aws.amazon.com/elasticbeanstalk/latest/dg/
# platforms-glossary.html. For an existing stack it prints nothing: the stack keeps the version it has, so
# re-running `make provision` changes nothing (managed platform updates keep the environments current).
# The AWS CLI is $AWS (default aws).
set -euo pipefail

if [ "$#" -lt 1 ] || [ "$#" -gt 2 ] || [ -z "$1" ]; then
    echo "usage: scripts/solution-stack.sh INFRA_STACK [SOLUTION_STACK_NAME]" >&2
    exit 2
fi
stack="$1"
chosen="${2:-}"
aws_cli="${AWS:-aws}"
os="${PLATFORM_OS:-Amazon Linux 2023}"

if [ -n "$chosen" ]; then
    printf '%s\n' "$chosen"
    exit 0
fi
if $aws_cli cloudformation describe-stacks --stack-name "$stack" >/dev/null 2>&1; then
    exit 0
fi
offered="$($aws_cli elasticbeanstalk list-available-solution-stacks --output text \
    --query "SolutionStacks[?starts_with(@, '64bit $os v') && ends_with(@, ' running Docker')]")"
newest="$(printf '%s\n' "$offered" | tr '\t' '\n' | sed '/^$/d' | sort -V | tail -n 1)"
if [ -z "$newest" ]; then
    echo "error: Elastic Beanstalk offers no '64bit $os v... running Docker' platform in this region;" \
        "name one with SOLUTION_STACK= (aws elasticbeanstalk list-available-solution-stacks)" >&2
    exit 1
fi
printf '%s\n' "$newest"
