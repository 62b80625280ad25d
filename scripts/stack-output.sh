#!/usr/bin/env bash
# Prints one output of a CloudFormation stack: scripts/stack-output.sh STACK OUTPUT_KEY
#
# Fails with a message naming the stack, the output and what to do when the stack does not exist, has not
# finished creating, or lacks the output (the AWS CLI's `--output text` prints "None" for a missing value,
# which a make recipe would otherwise take for a bucket or role name). The AWS CLI is $AWS (default aws).
set -euo pipefail

if [ "$#" -ne 2 ] || [ -z "$1" ] || [ -z "$2" ]; then
    echo "usage: scripts/stack-output.sh STACK OUTPUT_KEY" >&2
    exit 2
fi
stack="$1"
key="$2"
aws_cli="${AWS:-aws}"

if ! described="$($aws_cli cloudformation describe-stacks --stack-name "$stack" --output text \
        --query "Stacks[0].[StackStatus, Outputs[?OutputKey=='$key'].OutputValue | [0]]" 2>&1)"; then
    if [[ "$described" == *"does not exist"* ]]; then
        echo "error: there is no stack $stack (run make provision first, or set INFRA_STACK)" >&2
    else
        echo "error: cannot describe the stack $stack: $described" >&2
    fi
    exit 1
fi
read -r status value <<<"$described"
if [ -z "${value:-}" ] || [ "$value" = "None" ]; then
    case "$status" in
        *_COMPLETE) hint="it has no output $key: was it deployed from infra/pipeline.yaml? (make provision)" ;;
        *_IN_PROGRESS) hint="it is $status: wait until it completes (aws cloudformation wait stack-create-complete)" ;;
        *) hint="it is $status: see aws cloudformation describe-stack-events --stack-name $stack" ;;
    esac
    echo "error: the stack $stack has no output $key yet; $hint" >&2
    exit 1
fi
printf '%s\n' "$value"
