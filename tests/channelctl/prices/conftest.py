"""A Price List client under botocore's Stubber: every answer is one the test adds, never the network."""

from __future__ import annotations

import boto3
import pytest
from botocore.stub import Stubber


@pytest.fixture
def client():
    pricing = boto3.client("pricing", region_name="us-east-1", aws_access_key_id="testing",
                           aws_secret_access_key="testing")
    with Stubber(pricing) as stubber:
        yield pricing, stubber
        stubber.assert_no_pending_responses()
