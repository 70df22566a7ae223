#!/usr/bin/env python3
"""CDK entry point: `cdk synth` / `cdk deploy`, or `python3 app.py` with CDK_OUTDIR set.

No account is set on purpose: with an account and a VPC, the CDK CLI would try context lookups
against AWS. The region is pinned to us-east-1 (the linter's allowed region).
"""

import aws_cdk as cdk

from tap_stack import TapStack

app = cdk.App()
TapStack(app, "TapStack", env=cdk.Environment(region="us-east-1"))
app.synth()
