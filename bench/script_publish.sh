#!/bin/sh
# The hand-written publish step this tool replaces, redone for the benchmark: assume the
# docs-publisher role with the AWS CLI, export the session, then upload every file with
# `aws s3 cp --recursive` (no comparison with the bucket, no deletes).
# Endpoints come from AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL_S3 as for the other tools.
# Usage: script_publish.sh SITE_DIR BUCKET ROLE_ARN   (AWS=path/to/aws optional)
set -eu
site=$1
bucket=$2
role_arn=$3
aws=${AWS:-aws}

creds=$("$aws" sts assume-role \
    --role-arn "$role_arn" \
    --role-session-name docs-publish \
    --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' \
    --output text)
read -r key secret token <<CREDS
$creds
CREDS
export AWS_ACCESS_KEY_ID="$key" AWS_SECRET_ACCESS_KEY="$secret" AWS_SESSION_TOKEN="$token"

exec "$aws" s3 cp "$site" "s3://$bucket" --recursive --no-progress
