"""The Amazon Neptune bulk-loader request body for a job's results folder.

Field names follow Neptune's loader API (``POST https://<cluster>:8182/loader``). The
``source`` is where the results folder will be uploaded; ``iamRoleArn`` and ``region`` are
placeholders the user fills in (or sets with environment variables).

>>> body = loader_request("demo_2021-07-30_001")
>>> body["format"], body["source"]
('ntriples', 's3://YOUR-BUCKET/graphcrime/demo_2021-07-30_001/results/')
"""

from __future__ import annotations

import os

from graphcrime.runner.graphstore import graph_iri


def loader_request(job_id: str, *, bucket: str | None = None, region: str | None = None,
                   role_arn: str | None = None) -> dict[str, object]:
    """A loader body for ``results/`` uploaded under ``s3://<bucket>/graphcrime/<job_id>/``."""
    bucket = bucket or os.environ.get("GRAPHCRIME_S3_BUCKET", "YOUR-BUCKET")
    return {
        "source": f"s3://{bucket}/graphcrime/{job_id}/results/",
        "format": "ntriples",
        "iamRoleArn": role_arn or os.environ.get(
            "GRAPHCRIME_NEPTUNE_ROLE_ARN", "arn:aws:iam::ACCOUNT-ID:role/NeptuneLoadFromS3"),
        "region": region or os.environ.get("AWS_REGION", "us-east-1"),
        "mode": "AUTO",
        "failOnError": "TRUE",
        "parallelism": "MEDIUM",
        "updateSingleCardinalityProperties": "FALSE",
        "queueRequest": "TRUE",
        "parserConfiguration": {"namedGraphUri": graph_iri(job_id)},
    }
