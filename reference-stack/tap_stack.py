"""The tap-lint reference stack: the e-commerce inventory pipeline, written so that tap-lint's
whole rule pack finds nothing in its synthesized template.

Kinesis Data Streams -> Lambda (the Rust processor) -> RDS PostgreSQL + ElastiCache Redis + S3
archive, with Secrets Manager credentials, a cheap VPC, least-privilege IAM and CloudWatch logs.

Every choice below that looks fussy (a removal policy on a helper, an explicit log group, an
explicit subnet group) is there because the linter checks the synthesized template, CDK's own
resources included.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
from pathlib import Path
from typing import Optional

import aws_cdk as cdk
from aws_cdk import (
    Aws,
    CfnOutput,
    CfnParameter,
    Duration,
    RemovalPolicy,
    Stack,
    aws_ec2 as ec2,
    aws_elasticache as elasticache,
    aws_kinesis as kinesis,
    aws_lambda as lambda_,
    aws_lambda_event_sources as event_sources,
    aws_logs as logs,
    aws_rds as rds,
    aws_s3 as s3,
    aws_sqs as sqs,
    triggers,
)
from constructs import Construct

# Name of the CloudFormation parameter (and of the `-c environmentSuffix=...` context key) that
# every physical name carries. The linter's naming rules look for a reference to it.
SUFFIX_PARAMETER = "environmentSuffix"
DEFAULT_SUFFIX = "dev"

# Where the processor's Lambda package (a directory holding the `bootstrap` binary) comes from:
# context first (`-c processorAssetDir=...`), then the environment. CI sets it to the real build.
ASSET_DIR_CONTEXT = "processorAssetDir"
ASSET_DIR_ENV = "PROCESSOR_ASSET_DIR"

# Fixed bytes, so the placeholder's asset hash (and so the committed fixture) never changes.
_PLACEHOLDER_BOOTSTRAP = (
    "#!/bin/sh\n"
    "# Placeholder for the tap-lint processor. Synthesis and unit tests use it when\n"
    "# PROCESSOR_ASSET_DIR is unset; CI and real deployments pass the Rust build instead.\n"
    'echo "tap-lint processor placeholder: deploy with PROCESSOR_ASSET_DIR set" >&2\n'
    "exit 1\n"
)
_placeholder_dir: Optional[str] = None


def placeholder_asset_dir() -> str:
    """A temp directory holding a stand-in `bootstrap`, made once per process."""
    global _placeholder_dir
    if _placeholder_dir is None:
        path = tempfile.mkdtemp(prefix="tap-processor-placeholder-")
        bootstrap = Path(path, "bootstrap")
        bootstrap.write_text(_PLACEHOLDER_BOOTSTRAP, encoding="utf-8")
        bootstrap.chmod(0o755)
        atexit.register(shutil.rmtree, path, True)
        _placeholder_dir = path
    return _placeholder_dir


def resolve_processor_asset_dir(scope: Construct) -> str:
    """The processor package directory: context, then $PROCESSOR_ASSET_DIR, else a placeholder."""
    configured = scope.node.try_get_context(ASSET_DIR_CONTEXT) or os.environ.get(ASSET_DIR_ENV)
    if not configured:
        return placeholder_asset_dir()
    path = Path(configured)
    if not (path / "bootstrap").is_file():
        raise ValueError(
            f"processor asset directory {path} has no 'bootstrap' file "
            f"(set {ASSET_DIR_ENV} to the directory holding the built processor binary)"
        )
    return str(path.resolve())


class TapStack(Stack):
    """The inventory pipeline. Region us-east-1, no account (synthesis never calls AWS)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        processor_asset_dir: Optional[str] = None,
        **kwargs,
    ) -> None:
        # Version reporting adds an AWS::CDK::Metadata resource whose content changes with
        # every CDK release; the committed fixture should only change when the stack does.
        kwargs.setdefault("analytics_reporting", False)
        super().__init__(scope, construct_id, **kwargs)

        self.suffix = CfnParameter(
            self,
            SUFFIX_PARAMETER,
            type="String",
            default=self.node.try_get_context(SUFFIX_PARAMETER) or DEFAULT_SUFFIX,
            description="Suffix of every physical name, e.g. dev, staging, pr123",
            # Lower-case letters, digits and single hyphens: valid in every name below
            # (S3 buckets, ElastiCache ids and RDS identifiers are the strictest).
            allowed_pattern="^[a-z0-9]+(-[a-z0-9]+)*$",
            max_length=16,
            constraint_description="lower-case letters, digits and single hyphens, at most 16",
        )

        asset_dir = processor_asset_dir or resolve_processor_asset_dir(self)

        self.vpc = self._network()
        self.lambda_sg = self._security_group("LambdaSecurityGroup", "processor",
                                              "Inventory processor Lambda")
        self.stream = self._stream()
        self.failure_queue = self._failure_queue()
        self.bucket = self._archive_bucket()
        self.database = self._database()
        self.cache, self.cache_sg = self._cache()
        self.secrets_endpoint = self._endpoints()
        self.function = self._processor(asset_dir)
        self.mapping = self._event_source_mapping()
        self.schema_trigger = self._schema_init()
        self._outputs()
        self._helper_log_group()

        cdk.Tags.of(self).add("project", "tap-lint-reference")
        # Belt and braces: every resource CDK adds on its own (helpers, versions, policies)
        # gets DeletionPolicy/UpdateReplacePolicy Delete too. The constructs above already
        # set DESTROY explicitly; the unit tests check nothing says Retain or Snapshot.
        cdk.RemovalPolicies.of(self).destroy()

    # -- naming ------------------------------------------------------------------------------

    def name(self, resource_type: str, purpose: str) -> str:
        """`{resource-type}-{purpose}-{environmentSuffix}`, a token that Refs the parameter."""
        return f"{resource_type}-{purpose}-{self.suffix.value_as_string}"

    def _log_group(self, construct_id: str, name: str,
                   retention: logs.RetentionDays) -> logs.LogGroup:
        """Every log group of the stack expires (TAP206) and goes with the stack (TAP201)."""
        return logs.LogGroup(
            self,
            construct_id,
            log_group_name=name,
            retention=retention,
            removal_policy=RemovalPolicy.DESTROY,
        )

    # -- network -----------------------------------------------------------------------------

    def _network(self) -> ec2.Vpc:
        # Isolated subnets only: no NAT gateway (about $32/month each) and no internet route.
        # The processor reaches S3 through a free gateway endpoint and Secrets Manager through
        # an interface endpoint; Kinesis is polled by the Lambda service, not by the function.
        vpc = ec2.Vpc(
            self,
            "Vpc",
            vpc_name=self.name("vpc", "inventory"),
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=2,  # RDS subnet groups need two AZs
            nat_gateways=0,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="isolated",
                    subnet_type=ec2.SubnetType.PRIVATE_ISOLATED,
                    cidr_mask=24,
                )
            ],
            restrict_default_security_group=True,
        )
        # Rejected connections only (TAP319): the record an incident review starts from, at
        # a fraction of the volume (and cost) of logging all traffic.
        flow_logs = self._log_group(
            "FlowLogGroup", f"/vpc/{self.name('flowlogs', 'inventory')}",
            logs.RetentionDays.TWO_WEEKS,
        )
        flow_log = vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        # As for the processor's grants: the delivery role's policy gets the suffix too.
        role = flow_log.node.find_child("IAMRole")
        role.node.find_child("DefaultPolicy").node.default_child.add_property_override(
            "PolicyName", self.name("policy", "flowlogs")
        )
        return vpc

    @property
    def isolated_subnets(self) -> ec2.SubnetSelection:
        return ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)

    def _security_group(self, construct_id: str, purpose: str, description: str,
                        ) -> ec2.SecurityGroup:
        # No allow-all egress: each rule below is added for a reason.
        return ec2.SecurityGroup(
            self,
            construct_id,
            vpc=self.vpc,
            # EC2 rejects group names starting with "sg-", hence "secgroup".
            security_group_name=self.name("secgroup", purpose),
            description=description,
            allow_all_outbound=False,
        )

    def _endpoints(self) -> ec2.InterfaceVpcEndpoint:
        self.vpc.add_gateway_endpoint(
            "S3Endpoint",
            service=ec2.GatewayVpcEndpointAwsService.S3,
            subnets=[self.isolated_subnets],
        )
        endpoint_sg = self._security_group(
            "SecretsEndpointSecurityGroup", "secrets-endpoint", "Secrets Manager VPC endpoint"
        )
        endpoint = self.vpc.add_interface_endpoint(
            "SecretsManagerEndpoint",
            service=ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
            subnets=self.isolated_subnets,
            security_groups=[endpoint_sg],
            open=False,  # only the processor, not the whole VPC CIDR
            private_dns_enabled=True,
        )
        endpoint_sg.add_ingress_rule(self.lambda_sg, ec2.Port.tcp(443),
                                     "HTTPS from the processor to Secrets Manager")
        # The S3 gateway endpoint is a route, not an address: the processor's HTTPS egress to
        # S3's public ranges stays inside AWS. The subnets have no internet route, so this rule
        # reaches nothing but the endpoints.
        self.lambda_sg.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS to S3 via the gateway endpoint"
        )
        return endpoint

    # -- data plane --------------------------------------------------------------------------

    def _stream(self) -> kinesis.Stream:
        # One provisioned shard takes 1,000 records/s (60,000/minute): 60x the expected
        # 1,000 updates/minute, at a third of the on-demand stream's hourly price.
        return kinesis.Stream(
            self,
            "InventoryStream",
            stream_name=self.name("kinesis", "inventory-updates"),
            stream_mode=kinesis.StreamMode.PROVISIONED,
            shard_count=1,
            retention_period=Duration.hours(24),
            encryption=kinesis.StreamEncryption.MANAGED,
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _failure_queue(self) -> sqs.Queue:
        # Where the event source mapping sends the coordinates of batches it gave up on.
        return sqs.Queue(
            self,
            "ProcessorFailureQueue",
            queue_name=self.name("sqs", "processor-failures"),
            encryption=sqs.QueueEncryption.SQS_MANAGED,
            enforce_ssl=True,
            retention_period=Duration.days(14),
            removal_policy=RemovalPolicy.DESTROY,
        )

    def _archive_bucket(self) -> s3.Bucket:
        return s3.Bucket(
            self,
            "ArchiveBucket",
            # Bucket names are global: the account id keeps two accounts' "dev" apart.
            bucket_name=f"s3-inventory-archive-{self.suffix.value_as_string}-{Aws.ACCOUNT_ID}",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            enforce_ssl=True,
            versioned=False,
            lifecycle_rules=[
                s3.LifecycleRule(
                    id="archive-to-glacier-then-expire",
                    enabled=True,
                    transitions=[
                        s3.Transition(
                            storage_class=s3.StorageClass.GLACIER,
                            transition_after=Duration.days(90),
                        )
                    ],
                    expiration=Duration.days(1095),
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )

    def _database(self) -> rds.DatabaseInstance:
        self.db_sg = self._security_group("DatabaseSecurityGroup", "database",
                                          "Inventory PostgreSQL")
        subnet_group = rds.SubnetGroup(
            self,
            "DatabaseSubnetGroup",
            subnet_group_name=self.name("rds-subnets", "inventory"),
            description="Isolated subnets of the inventory database",
            vpc=self.vpc,
            vpc_subnets=self.isolated_subnets,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Created here rather than by the instance so that the environment variable, the grant
        # and the output Ref the AWS::SecretsManager::Secret itself (not its attachment).
        self.db_secret = rds.DatabaseSecret(
            self,
            "DatabaseSecret",
            username="inventory_admin",
            dbname="inventory",
            secret_name=self.name("secret", "inventory-db"),
        )
        self.db_secret.apply_removal_policy(RemovalPolicy.DESTROY)
        database = rds.DatabaseInstance(
            self,
            "Database",
            instance_identifier=self.name("rds", "inventory"),
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_17),
            instance_type=ec2.InstanceType.of(ec2.InstanceClass.BURSTABLE4_GRAVITON,
                                              ec2.InstanceSize.MICRO),
            # The master password is generated into Secrets Manager; the template only holds a
            # {{resolve:secretsmanager:...}} dynamic reference.
            credentials=rds.Credentials.from_secret(self.db_secret),
            database_name="inventory",
            port=5432,
            vpc=self.vpc,
            subnet_group=subnet_group,
            security_groups=[self.db_sg],
            publicly_accessible=False,
            multi_az=False,
            allocated_storage=20,
            storage_type=rds.StorageType.GP3,
            storage_encrypted=True,
            # Password logins keep working; IAM tokens let a role connect without one (TAP327).
            iam_authentication=True,
            deletion_protection=False,
            backup_retention=Duration.days(0),
            delete_automated_backups=True,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # No snapshot is ever taken, so drop CDK's CopyTagsToSnapshot (AWS default: false).
        database.node.default_child.add_property_deletion_override("CopyTagsToSnapshot")
        # Both sides of the rule, with the literal port (connections.allow_default_port_from
        # would write the port as GetAtt Endpoint.Port, which a linter cannot check):
        # ingress on the database group, egress on the processor's.
        self.db_sg.add_ingress_rule(self.lambda_sg, ec2.Port.tcp(5432),
                                    "PostgreSQL from the processor only")
        self.lambda_sg.add_egress_rule(self.db_sg, ec2.Port.tcp(5432),
                                       "PostgreSQL to the inventory database")
        return database

    def _cache(self) -> tuple[elasticache.CfnReplicationGroup, ec2.SecurityGroup]:
        cache_sg = self._security_group("CacheSecurityGroup", "cache", "Inventory Redis")
        cache_sg.add_ingress_rule(self.lambda_sg, ec2.Port.tcp(6379),
                                  "Redis from the processor only")
        self.lambda_sg.add_egress_rule(cache_sg, ec2.Port.tcp(6379),
                                       "Redis to the inventory cache")

        subnet_group = elasticache.CfnSubnetGroup(
            self,
            "CacheSubnetGroup",
            cache_subnet_group_name=self.name("cache-subnets", "inventory"),
            description="Isolated subnets of the inventory cache",
            subnet_ids=self.vpc.select_subnets(subnet_type=ec2.SubnetType.PRIVATE_ISOLATED
                                               ).subnet_ids,
        )
        subnet_group.apply_removal_policy(RemovalPolicy.DESTROY)

        cache = elasticache.CfnReplicationGroup(
            self,
            "Cache",
            replication_group_id=self.name("redis", "inventory"),
            replication_group_description="Inventory read cache",
            engine="redis",
            engine_version="7.1",
            cache_node_type="cache.t4g.micro",
            num_cache_clusters=1,  # cache only: PostgreSQL is the source of truth
            automatic_failover_enabled=False,
            port=6379,
            cache_subnet_group_name=subnet_group.ref,
            security_group_ids=[cache_sg.security_group_id],
            at_rest_encryption_enabled=True,
            transit_encryption_enabled=True,
            transit_encryption_mode="required",
            snapshot_retention_limit=0,
        )
        cache.apply_removal_policy(RemovalPolicy.DESTROY)
        return cache, cache_sg

    # -- compute -----------------------------------------------------------------------------

    def _processor(self, asset_dir: str) -> lambda_.Function:
        function_name = self.name("lambda", "processor")
        log_group = self._log_group(
            "ProcessorLogGroup", f"/aws/lambda/{function_name}", logs.RetentionDays.TWO_WEEKS
        )
        function = lambda_.Function(
            self,
            "Processor",
            function_name=function_name,
            description="tap-lint inventory processor (Rust, processor/)",
            runtime=lambda_.Runtime.PROVIDED_AL2023,
            architecture=lambda_.Architecture.X86_64,
            handler="bootstrap",
            code=lambda_.Code.from_asset(asset_dir),
            memory_size=512,
            timeout=Duration.seconds(60),
            vpc=self.vpc,
            vpc_subnets=self.isolated_subnets,
            security_groups=[self.lambda_sg],
            log_group=log_group,
            # Endpoints and the secret's ARN, never the password. Names are the processor's
            # (processor/src/config.rs): it reads username, password, host, port and dbname
            # from the secret once per container (the RDS attachment fills in host and port).
            environment={
                "ARCHIVE_BUCKET": self.bucket.bucket_name,
                "DATABASE_SECRET_ARN": self.db_secret.secret_arn,
                "DATABASE_HOST": self.database.db_instance_endpoint_address,
                "DATABASE_PORT": self.database.db_instance_endpoint_port,
                "DATABASE_SSLMODE": "require",
                # In-transit encryption is on, so the scheme is rediss:// (TLS).
                "REDIS_URL": f"rediss://{self.cache.attr_primary_end_point_address}"
                             f":{self.cache.attr_primary_end_point_port}",
                "RUN_MIGRATIONS": "true",
                "RUST_LOG": "info",
            },
            # The schema trigger invokes `current_version`; without this the version would be
            # kept (UpdateReplacePolicy Retain) on every code change.
            current_version_options=lambda_.VersionOptions(
                removal_policy=RemovalPolicy.DESTROY
            ),
        )
        # Least privilege through grants; CDK adds AWSLambdaVPCAccessExecutionRole (ENI
        # actions) because the function is in the VPC.
        self.stream.grant_read(function)
        self.db_secret.grant_read(function)
        self.bucket.grant_put(function)
        # CDK names the grants' policy after its construct path; give it the suffix too, so a
        # naming rule that counts PolicyName as a physical name finds nothing to report.
        default_policy = function.role.node.try_find_child("DefaultPolicy")
        default_policy.node.default_child.add_property_override(
            "PolicyName", self.name("policy", "processor")
        )
        return function

    def _event_source_mapping(self) -> lambda_.EventSourceMapping:
        return lambda_.EventSourceMapping(
            self,
            "InventoryStreamMapping",
            target=self.function,
            event_source_arn=self.stream.stream_arn,
            starting_position=lambda_.StartingPosition.TRIM_HORIZON,
            batch_size=100,
            max_batching_window=Duration.seconds(1),
            parallelization_factor=1,
            # A poison record is isolated by halving the batch, retried a bounded number of
            # times, dropped after an hour, and its coordinates land in the failure queue.
            bisect_batch_on_error=True,
            retry_attempts=3,
            max_record_age=Duration.hours(1),
            report_batch_item_failures=True,
            on_failure=event_sources.SqsDlq(self.failure_queue),
        )

    def _schema_init(self) -> triggers.Trigger:
        # The processor applies its sqlx migrations (processor/migrations) before handling its
        # first event in a container. This trigger invokes the published version once the
        # database, cache, endpoints and security-group rules exist, so the schema is in place
        # before the stream mapping is created, and again whenever the processor code changes
        # (execute_on_handler_change). A failed migration fails the deploy.
        trigger = triggers.Trigger(
            self,
            "SchemaMigration",
            handler=self.function,
            invocation_type=triggers.InvocationType.REQUEST_RESPONSE,
            timeout=Duration.minutes(5),
            execute_on_handler_change=True,
            execute_after=[
                self.database,
                self.db_secret,
                self.cache,
                self.secrets_endpoint,
                self.db_sg,
                self.cache_sg,
                self.lambda_sg,
            ],
            execute_before=[self.mapping],
        )
        # The Trigger already DependsOn the database; this property makes the relationship an
        # explicit reference too (the linter's schema-init rule follows references into
        # Custom::* resources). The trigger handler ignores properties it does not know.
        trigger_resource = trigger.node.default_child.node.default_child  # CustomResource -> L1
        assert isinstance(trigger_resource, cdk.CfnResource)
        trigger_resource.add_property_override(
            "DatabaseEndpoint", self.database.db_instance_endpoint_address
        )
        return trigger

    def _helper_log_group(self) -> None:
        """Give CDK's own helper functions (S3 auto-delete, default-SG restriction, trigger
        provider) an explicit log group with retention that `cdk destroy` removes; otherwise
        Lambda creates /aws/lambda/<name> groups at run time that never expire and outlive
        the stack."""
        # Compare paths: jsii hands out a new Python proxy per call, so `is` does not work.
        processor_path = self.function.node.default_child.node.path
        helpers = [
            c for c in self.node.find_all()
            if isinstance(c, cdk.CfnResource)
            and c.cfn_resource_type == "AWS::Lambda::Function"
            and c.node.path != processor_path
        ]
        if not helpers:
            return
        log_group = self._log_group(
            "CdkHelperLogGroup", f"/aws/lambda/{self.name('lambda', 'cdk-helpers')}",
            logs.RetentionDays.ONE_WEEK,
        )
        for helper in helpers:
            helper.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
            helper.node.add_dependency(log_group)

    # -- outputs -----------------------------------------------------------------------------

    def _outputs(self) -> None:
        CfnOutput(self, "StreamName", value=self.stream.stream_name,
                  description="Kinesis stream that takes inventory updates")
        CfnOutput(self, "ArchiveBucketName", value=self.bucket.bucket_name,
                  description="S3 bucket with every raw record")
        CfnOutput(self, "DatabaseEndpoint", value=self.database.db_instance_endpoint_address,
                  description="PostgreSQL host")
        CfnOutput(self, "CacheEndpoint", value=self.cache.attr_primary_end_point_address,
                  description="Redis primary endpoint (TLS)")
        CfnOutput(self, "DatabaseSecretArn", value=self.db_secret.secret_arn,
                  description="Secrets Manager secret with the database credentials")
        CfnOutput(self, "ProcessorFunctionName", value=self.function.function_name,
                  description="The processor Lambda function")
        CfnOutput(self, "FailureQueueUrl", value=self.failure_queue.queue_url,
                  description="SQS queue with batches the processor gave up on")

