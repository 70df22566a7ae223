"""Unit tests of the synthesized reference stack.

Each test pins a property that tap-lint's rule pack checks (DESIGN.md section 6), so a change
that would make the stack lint dirty fails here first, with a Python-level message.
"""

import json

import pytest
from aws_cdk.assertions import Match

from conftest import FIXTURE, build_stack
import tap_stack

SUFFIX_REF = {"Ref": tap_stack.SUFFIX_PARAMETER}

# Physical-name properties by resource type (failure class 1). Every one present in the
# template must reference the environmentSuffix parameter.
NAME_PROPERTIES = {
    "AWS::Kinesis::Stream": ["Name"],
    "AWS::Lambda::Function": ["FunctionName"],
    "AWS::SQS::Queue": ["QueueName"],
    "AWS::S3::Bucket": ["BucketName"],
    "AWS::RDS::DBInstance": ["DBInstanceIdentifier"],
    "AWS::RDS::DBSubnetGroup": ["DBSubnetGroupName"],
    "AWS::ElastiCache::ReplicationGroup": ["ReplicationGroupId"],
    "AWS::ElastiCache::SubnetGroup": ["CacheSubnetGroupName"],
    "AWS::Logs::LogGroup": ["LogGroupName"],
    "AWS::SecretsManager::Secret": ["Name"],
    "AWS::EC2::SecurityGroup": ["GroupName"],
    "AWS::IAM::Role": ["RoleName"],
    "AWS::IAM::Policy": ["PolicyName"],
    "AWS::SNS::Topic": ["TopicName"],
    "AWS::DynamoDB::Table": ["TableName"],
}


def resources(tpl, type_=None):
    return {
        lid: r for lid, r in tpl["Resources"].items() if type_ is None or r["Type"] == type_
    }


def only(tpl, type_):
    found = resources(tpl, type_)
    assert len(found) == 1, f"expected one {type_}, found {sorted(found)}"
    return next(iter(found.items()))


def mentions(value, needle) -> bool:
    """True if `needle` (a dict like {"Ref": X}) occurs anywhere inside `value`, or `value` is
    an Fn::Sub string naming the parameter."""
    if value == needle:
        return True
    if isinstance(value, dict):
        sub = value.get("Fn::Sub")
        if sub is not None:
            text = sub if isinstance(sub, str) else sub[0]
            if "${" + tap_stack.SUFFIX_PARAMETER + "}" in text:
                return True
        return any(mentions(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, needle) for v in value)
    return False


def security_group_id(lid):
    return {"Fn::GetAtt": [lid, "GroupId"]}


def logical_id_of(tpl, type_, name_prefix, prop):
    for lid, r in resources(tpl, type_).items():
        name = r["Properties"].get(prop)
        if name and mentions(name, SUFFIX_REF) and json.dumps(name).find(name_prefix) >= 0:
            return lid
    raise AssertionError(f"no {type_} named {name_prefix}*")


# -- naming ----------------------------------------------------------------------------------


def test_suffix_parameter_declared(tpl):
    param = tpl["Parameters"][tap_stack.SUFFIX_PARAMETER]
    assert param["Type"] == "String"
    assert param["Default"] == "dev"
    assert param["AllowedPattern"]


def test_every_physical_name_references_the_suffix(tpl):
    checked = 0
    for lid, r in resources(tpl).items():
        for prop in NAME_PROPERTIES.get(r["Type"], []):
            if prop in r.get("Properties", {}):
                checked += 1
                assert mentions(r["Properties"][prop], SUFFIX_REF), (
                    f"{lid} ({r['Type']}) {prop} does not reference {tap_stack.SUFFIX_PARAMETER}"
                )
    assert checked >= 12  # stream, function, queue, bucket, db, subnet groups, log groups...


@pytest.mark.parametrize(
    "type_,prop,prefix",
    [
        ("AWS::Kinesis::Stream", "Name", "kinesis-inventory-updates-"),
        ("AWS::Lambda::Function", "FunctionName", "lambda-processor-"),
        ("AWS::SQS::Queue", "QueueName", "sqs-processor-failures-"),
        ("AWS::S3::Bucket", "BucketName", "s3-inventory-archive-"),
        ("AWS::RDS::DBInstance", "DBInstanceIdentifier", "rds-inventory-"),
        ("AWS::ElastiCache::ReplicationGroup", "ReplicationGroupId", "redis-inventory-"),
        ("AWS::SecretsManager::Secret", "Name", "secret-inventory-db-"),
        ("AWS::Logs::LogGroup", "LogGroupName", "/aws/lambda/lambda-processor-"),
    ],
)
def test_primary_resources_follow_the_naming_convention(tpl, type_, prop, prefix):
    logical_id_of(tpl, type_, prefix, prop)


def test_context_sets_the_suffix_default():
    from aws_cdk.assertions import Template

    t = Template.from_stack(build_stack({"environmentSuffix": "qa"})).to_json()
    assert t["Parameters"][tap_stack.SUFFIX_PARAMETER]["Default"] == "qa"


# -- retention and deletion ------------------------------------------------------------------


def test_nothing_is_retained_or_snapshotted(tpl):
    for lid, r in resources(tpl).items():
        assert r.get("DeletionPolicy", "Delete") == "Delete", lid
        assert r.get("UpdateReplacePolicy", "Delete") == "Delete", lid
    text = json.dumps(tpl)
    assert '"Retain"' not in text
    assert '"Snapshot"' not in text
    assert '"RetainExceptOnCreate"' not in text


def test_no_deletion_protection_or_backups(template):
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {
            "DeletionProtection": False,
            "BackupRetentionPeriod": 0,
            "DeleteAutomatedBackups": True,
            "PubliclyAccessible": False,
        },
    )
    template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup", {"SnapshotRetentionLimit": 0}
    )


def test_bucket_is_destroyed_with_its_objects(template):
    template.resource_count_is("Custom::S3AutoDeleteObjects", 1)


def test_every_log_group_has_retention(tpl):
    groups = resources(tpl, "AWS::Logs::LogGroup")
    assert groups
    for lid, r in groups.items():
        assert isinstance(r["Properties"].get("RetentionInDays"), int), lid


def test_every_function_logs_to_an_explicit_log_group(tpl):
    groups = set(resources(tpl, "AWS::Logs::LogGroup"))
    for lid, r in resources(tpl, "AWS::Lambda::Function").items():
        ref = r["Properties"].get("LoggingConfig", {}).get("LogGroup", {}).get("Ref")
        assert ref in groups, f"{lid} writes to a log group the stack does not manage"


# -- encryption ------------------------------------------------------------------------------


def test_encryption_everywhere(template):
    template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {"StreamEncryption": {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}},
    )
    template.has_resource_properties("AWS::SQS::Queue", {"SqsManagedSseEnabled": True})
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [
                    {"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}
                ]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
        },
    )
    template.has_resource_properties(
        "AWS::RDS::DBInstance",
        {"StorageEncrypted": True, "EnableIAMDatabaseAuthentication": True},
    )
    template.has_resource_properties(
        "AWS::ElastiCache::ReplicationGroup",
        {"AtRestEncryptionEnabled": True, "TransitEncryptionEnabled": True},
    )


def test_bucket_and_queue_refuse_plain_http(template):
    deny_insecure = Match.object_like(
        {
            "Effect": "Deny",
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
    for policy in ("AWS::S3::BucketPolicy", "AWS::SQS::QueuePolicy"):
        template.has_resource_properties(
            policy,
            {"PolicyDocument": {"Statement": Match.array_with([deny_insecure])}},
        )


def test_database_password_is_a_dynamic_reference(tpl):
    _, db = only(tpl, "AWS::RDS::DBInstance")
    password = json.dumps(db["Properties"]["MasterUserPassword"])
    assert "{{resolve:secretsmanager:" in password


# -- lifecycle -------------------------------------------------------------------------------


def test_archive_lifecycle(template):
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LifecycleConfiguration": {
                "Rules": [
                    Match.object_like(
                        {
                            "Status": "Enabled",
                            "ExpirationInDays": 1095,
                            "Transitions": [
                                {"StorageClass": "GLACIER", "TransitionInDays": 90}
                            ],
                        }
                    )
                ]
            }
        },
    )


# -- network ---------------------------------------------------------------------------------


def _ingress_rules(tpl):
    """(group logical id, rule) for standalone and inline ingress rules."""
    rules = []
    for lid, r in resources(tpl, "AWS::EC2::SecurityGroupIngress").items():
        rules.append((r["Properties"]["GroupId"]["Fn::GetAtt"][0], r["Properties"]))
    for lid, r in resources(tpl, "AWS::EC2::SecurityGroup").items():
        for rule in r["Properties"].get("SecurityGroupIngress", []):
            rules.append((lid, rule))
    return rules


@pytest.mark.parametrize(
    "group_prefix,port",
    [("secgroup-database-", 5432), ("secgroup-cache-", 6379), ("secgroup-secrets-endpoint-", 443)],
)
def test_data_stores_admit_only_the_processor(tpl, group_prefix, port):
    lambda_sg = logical_id_of(tpl, "AWS::EC2::SecurityGroup", "secgroup-processor-", "GroupName")
    group = logical_id_of(tpl, "AWS::EC2::SecurityGroup", group_prefix, "GroupName")
    rules = [dict(rule) for gid, rule in _ingress_rules(tpl) if gid == group]
    for rule in rules:
        assert rule.pop("Description")
    assert rules == [
        {
            "FromPort": port,
            "ToPort": port,
            "GroupId": security_group_id(group),
            "IpProtocol": "tcp",
            "SourceSecurityGroupId": security_group_id(lambda_sg),
        }
    ]


def test_no_ingress_from_anywhere(tpl):
    for gid, rule in _ingress_rules(tpl):
        assert "CidrIp" not in rule and "CidrIpv6" not in rule, f"{gid} admits a CIDR"


def test_data_stores_use_their_security_groups(tpl):
    db_sg = logical_id_of(tpl, "AWS::EC2::SecurityGroup", "secgroup-database-", "GroupName")
    cache_sg = logical_id_of(tpl, "AWS::EC2::SecurityGroup", "secgroup-cache-", "GroupName")
    _, db = only(tpl, "AWS::RDS::DBInstance")
    _, cache = only(tpl, "AWS::ElastiCache::ReplicationGroup")
    assert db["Properties"]["VPCSecurityGroups"] == [security_group_id(db_sg)]
    assert cache["Properties"]["SecurityGroupIds"] == [security_group_id(cache_sg)]


def test_no_nat_gateway_and_isolated_subnets(template):
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.resource_count_is("AWS::EC2::InternetGateway", 0)
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Gateway"}
    )
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Interface", "PrivateDnsEnabled": True}
    )


def test_vpc_logs_rejected_traffic_to_a_log_group_that_expires(tpl):
    (vpc_id,) = resources(tpl, "AWS::EC2::VPC")
    _, flow_log = only(tpl, "AWS::EC2::FlowLog")
    flow_log = flow_log["Properties"]
    assert flow_log["ResourceId"] == {"Ref": vpc_id}
    assert flow_log["TrafficType"] == "REJECT"
    group = flow_log["LogGroupName"]["Ref"]
    assert tpl["Resources"][group]["Properties"]["RetentionInDays"] == 14



# -- processor -------------------------------------------------------------------------------


def processor(tpl):
    lid = logical_id_of(tpl, "AWS::Lambda::Function", "lambda-processor-", "FunctionName")
    return lid, tpl["Resources"][lid]


def test_processor_function(tpl):
    lambda_sg = logical_id_of(tpl, "AWS::EC2::SecurityGroup", "secgroup-processor-", "GroupName")
    _, fn = processor(tpl)
    props = fn["Properties"]
    assert props["Runtime"] == "provided.al2023"
    assert props["Handler"] == "bootstrap"
    assert "S3Key" in props["Code"] and "ZipFile" not in props["Code"]
    assert props["VpcConfig"]["SecurityGroupIds"] == [security_group_id(lambda_sg)]
    assert len(props["VpcConfig"]["SubnetIds"]) == 2


def test_processor_environment_has_endpoints_and_no_secrets(tpl):
    _, fn = processor(tpl)
    env = fn["Properties"]["Environment"]["Variables"]
    db_lid, _ = only(tpl, "AWS::RDS::DBInstance")
    cache_lid, _ = only(tpl, "AWS::ElastiCache::ReplicationGroup")
    secret_lid, _ = only(tpl, "AWS::SecretsManager::Secret")
    bucket_lid, _ = only(tpl, "AWS::S3::Bucket")
    assert env["DATABASE_HOST"] == {"Fn::GetAtt": [db_lid, "Endpoint.Address"]}
    assert env["REDIS_URL"] == {
        "Fn::Join": [
            "",
            [
                "rediss://",
                {"Fn::GetAtt": [cache_lid, "PrimaryEndPoint.Address"]},
                ":",
                {"Fn::GetAtt": [cache_lid, "PrimaryEndPoint.Port"]},
            ],
        ]
    }
    assert env["DATABASE_SECRET_ARN"] == {"Ref": secret_lid}
    assert env["RUN_MIGRATIONS"] == "true"
    assert env["ARCHIVE_BUCKET"] == {"Ref": bucket_lid}
    for key, value in env.items():
        assert "PASSWORD" not in key.upper() and "TOKEN" not in key.upper(), key
        assert "resolve:secretsmanager" not in json.dumps(value), key


def test_no_inline_code_anywhere(tpl):
    for lid, r in resources(tpl, "AWS::Lambda::Function").items():
        assert "ZipFile" not in r["Properties"].get("Code", {}), lid


def test_functions_that_reach_data_stores_are_in_the_vpc(tpl):
    stores = set(resources(tpl, "AWS::RDS::DBInstance")) | set(
        resources(tpl, "AWS::ElastiCache::ReplicationGroup")
    )
    for lid, r in resources(tpl, "AWS::Lambda::Function").items():
        env = json.dumps(r["Properties"].get("Environment", {}))
        if any(f'"{store}"' in env for store in stores):
            assert "VpcConfig" in r["Properties"], lid


def test_processor_permissions(tpl):
    fn_lid, fn = processor(tpl)
    role_lid = fn["Properties"]["Role"]["Fn::GetAtt"][0]
    role = tpl["Resources"][role_lid]
    managed = json.dumps(role["Properties"]["ManagedPolicyArns"])
    assert "AWSLambdaVPCAccessExecutionRole" in managed
    actions = set()
    for r in resources(tpl, "AWS::IAM::Policy").values():
        if {"Ref": role_lid} in r["Properties"]["Roles"]:
            for st in r["Properties"]["PolicyDocument"]["Statement"]:
                assert st["Effect"] == "Allow"
                assert st["Resource"] != "*", st
                acts = st["Action"]
                actions.update([acts] if isinstance(acts, str) else acts)
    for needed in [
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:DescribeStream",
        "kinesis:ListShards",
        "secretsmanager:GetSecretValue",
        "s3:PutObject",
        "sqs:SendMessage",
    ]:
        assert needed in actions, needed
    assert not any(a.endswith(":*") or a == "*" for a in actions), actions


# -- event source mapping --------------------------------------------------------------------


def test_event_source_mapping_handles_errors(template, tpl):
    fn_lid, _ = processor(tpl)
    stream_lid, _ = only(tpl, "AWS::Kinesis::Stream")
    queue_lid, _ = only(tpl, "AWS::SQS::Queue")
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {
            "FunctionName": {"Ref": fn_lid},
            "EventSourceArn": {"Fn::GetAtt": [stream_lid, "Arn"]},
            "BisectBatchOnFunctionError": True,
            "MaximumRetryAttempts": 3,
            "MaximumRecordAgeInSeconds": 3600,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
            "DestinationConfig": {
                "OnFailure": {"Destination": {"Fn::GetAtt": [queue_lid, "Arn"]}}
            },
            "StartingPosition": "TRIM_HORIZON",
        },
    )


def test_stream_has_headroom(template):
    # One shard takes 1,000 records/s; the pipeline expects about 1,000 per minute.
    template.has_resource_properties(
        "AWS::Kinesis::Stream",
        {"ShardCount": 1, "StreamModeDetails": {"StreamMode": "PROVISIONED"}},
    )


# -- schema initialisation -------------------------------------------------------------------


def test_schema_is_created_by_a_custom_resource_after_the_database(tpl):
    db_lid, _ = only(tpl, "AWS::RDS::DBInstance")
    mapping_lid, mapping = only(tpl, "AWS::Lambda::EventSourceMapping")
    trigger_lid, trigger = only(tpl, "Custom::Trigger")
    assert db_lid in trigger["DependsOn"]
    assert trigger["Properties"]["DatabaseEndpoint"] == {
        "Fn::GetAtt": [db_lid, "Endpoint.Address"]
    }
    # It runs the processor's published version (re-run whenever the code changes) ...
    version_lid = trigger["Properties"]["HandlerArn"]["Ref"]
    fn_lid, _ = processor(tpl)
    assert tpl["Resources"][version_lid]["Properties"]["FunctionName"] == {"Ref": fn_lid}
    assert trigger["Properties"]["ExecuteOnHandlerChange"] is True
    # ... and before the stream mapping starts delivering records.
    assert trigger_lid in mapping["DependsOn"]


# -- outputs and region ----------------------------------------------------------------------


def test_outputs(tpl):
    outputs = tpl["Outputs"]
    stream_lid, _ = only(tpl, "AWS::Kinesis::Stream")
    bucket_lid, _ = only(tpl, "AWS::S3::Bucket")
    db_lid, _ = only(tpl, "AWS::RDS::DBInstance")
    cache_lid, _ = only(tpl, "AWS::ElastiCache::ReplicationGroup")
    secret_lid, _ = only(tpl, "AWS::SecretsManager::Secret")
    assert outputs["StreamName"]["Value"] == {"Ref": stream_lid}
    assert outputs["ArchiveBucketName"]["Value"] == {"Ref": bucket_lid}
    assert outputs["DatabaseEndpoint"]["Value"] == {"Fn::GetAtt": [db_lid, "Endpoint.Address"]}
    assert outputs["CacheEndpoint"]["Value"] == {
        "Fn::GetAtt": [cache_lid, "PrimaryEndPoint.Address"]
    }
    assert outputs["DatabaseSecretArn"]["Value"] == {"Ref": secret_lid}


def test_region_is_us_east_1(stack, tpl):
    assert stack.region == "us-east-1"
    text = json.dumps(tpl)
    for region in ("us-east-2", "us-west-1", "us-west-2", "eu-west-1"):
        assert region not in text


# -- asset and fixture -----------------------------------------------------------------------


def test_asset_dir_without_bootstrap_is_rejected(tmp_path, monkeypatch):
    monkeypatch.setenv(tap_stack.ASSET_DIR_ENV, str(tmp_path))
    with pytest.raises(Exception, match="bootstrap"):
        build_stack(processor_asset_dir=None)


def test_committed_fixture_matches_the_stack(tpl):
    committed = json.loads(FIXTURE.read_text())
    assert committed == tpl, (
        f"{FIXTURE} is stale: regenerate it with reference-stack/scripts/update-fixture.sh"
    )
