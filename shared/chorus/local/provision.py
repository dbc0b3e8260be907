"""Create in a moto server what template.yaml declares, and remember the physical ids for resolution."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from chorus.local.template import Resolver, Template

log = logging.getLogger("chorus.local")

ACCOUNT = "123456789012"

# Types the local runtime provisions in moto.
_PROVISIONED = {
    "AWS::DynamoDB::Table",
    "AWS::SQS::Queue",
    "AWS::SNS::Topic",
    "AWS::SNS::Subscription",
    "AWS::S3::Bucket",
    "AWS::Events::EventBus",
    "AWS::KMS::Key",
    "AWS::KMS::Alias",
    "AWS::Cognito::UserPool",
    "AWS::Cognito::UserPoolClient",
    "AWS::SES::EmailIdentity",
}
# Types that only need a name/ARN for references; the runtime itself plays their part.
_NAMED_ONLY = {
    "AWS::Serverless::Function",
    "AWS::Serverless::LayerVersion",
    "AWS::Serverless::Api",
    "AWS::ApiGatewayV2::Api",
    "AWS::ApiGatewayV2::Stage",
    "AWS::ApiGatewayV2::Route",
    "AWS::ApiGatewayV2::Integration",
    "AWS::ApiGatewayV2::Deployment",
    "AWS::Events::Rule",  # wired by the runtime (targets may be functions)
    "AWS::Lambda::Permission",
    "AWS::Logs::LogGroup",
    "AWS::IAM::Role",
    "AWS::IAM::Policy",
    "AWS::IAM::ManagedPolicy",
    "AWS::CloudWatch::Alarm",
    "AWS::CloudWatch::Dashboard",
    "AWS::SES::ConfigurationSet",
    "AWS::Scheduler::ScheduleGroup",
    "AWS::SSM::Parameter",
    "AWS::SecretsManager::Secret",
    "AWS::SQS::QueuePolicy",  # moto's queues take any sender
    "AWS::S3::BucketPolicy",  # the web app's bucket is read by CloudFront only
}


@dataclass
class Stack:
    template: Template
    name: str
    region: str
    refs: dict[str, Any] = field(default_factory=dict)
    attrs: dict[tuple[str, str], Any] = field(default_factory=dict)
    conditions: dict[str, bool] = field(default_factory=dict)

    def resolver(self) -> Resolver:
        return Resolver(self.refs, self.attrs, self.conditions)

    def resolve(self, value: Any) -> Any:
        return self.resolver().resolve(value)


#: CloudFormation's names of a bucket's CORS rule properties, as S3's PutBucketCors names them.
_CORS_KEYS = {
    "AllowedHeaders": "AllowedHeaders",
    "AllowedMethods": "AllowedMethods",
    "AllowedOrigins": "AllowedOrigins",
    "ExposedHeaders": "ExposeHeaders",
    "Id": "ID",
    "MaxAge": "MaxAgeSeconds",
}


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {_CORS_KEYS[k]: v for k, v in rule.items() if k in _CORS_KEYS}


def _user_pool(stack: Stack, clients: Any, logical: str, props: dict[str, Any], name: str) -> None:
    args: dict[str, Any] = {"PoolName": props.get("UserPoolName", name)}
    for key in ("UsernameAttributes", "AutoVerifiedAttributes", "Policies", "AccountRecoverySetting"):
        if props.get(key):
            args[key] = props[key]
    pool = clients("cognito-idp").create_user_pool(**args)["UserPool"]
    stack.refs[logical] = pool["Id"]
    stack.attrs[(logical, "Arn")] = pool["Arn"]
    stack.attrs[(logical, "ProviderName")] = f"cognito-idp.{stack.region}.amazonaws.com/{pool['Id']}"
    stack.attrs[(logical, "ProviderURL")] = f"https://cognito-idp.{stack.region}.amazonaws.com/{pool['Id']}"


def _physical(stack: Stack, logical: str) -> str:
    return f"{stack.name}-{logical}"


def provision(
    template: Template,
    clients: Any,
    region: str,
    stack_name: str = "chorus-local",
    parameters: dict[str, str] | None = None,
) -> Stack:
    """Create every resource the runtime plays from moto, in dependency order."""
    stack = Stack(template, stack_name, region)
    stack.refs.update(
        {
            "AWS::Region": region,
            "AWS::AccountId": ACCOUNT,
            "AWS::StackName": stack_name,
            "AWS::Partition": "aws",
            "AWS::URLSuffix": "amazonaws.com",
            "AWS::StackId": f"arn:aws:cloudformation:{region}:{ACCOUNT}:stack/{stack_name}/local",
        }
    )
    stack.refs.update(template.parameter_defaults())
    stack.refs.update(parameters or {})  # as `sam deploy --parameter-overrides`
    resolver = stack.resolver()
    for cname, expr in template.raw.get("Conditions", {}).items():
        stack.conditions[cname] = bool(resolver.resolve(expr))

    pending = dict(template.resources)
    for _ in range(len(pending) + 1):
        progressed = False
        for logical, res in list(pending.items()):
            if res.get("Condition") and not stack.conditions.get(res["Condition"], False):
                pending.pop(logical)
                continue
            try:
                _create(stack, clients, logical, res)
            except KeyError:
                continue  # depends on something not yet created: next pass
            pending.pop(logical)
            progressed = True
        if not pending:
            return stack
        if not progressed:
            break
    raise RuntimeError(f"could not provision {sorted(pending)}: unresolved references or unknown types")


def _create(stack: Stack, clients: Any, logical: str, res: dict[str, Any]) -> None:
    kind = res["Type"]
    props = stack.resolve(res.get("Properties", {}))
    region, name = stack.region, _physical(stack, logical)
    if kind == "AWS::DynamoDB::Table":
        table = props.get("TableName", name)
        args: dict[str, Any] = {
            "TableName": table,
            "KeySchema": props["KeySchema"],
            "AttributeDefinitions": props["AttributeDefinitions"],
            "BillingMode": props.get("BillingMode", "PAY_PER_REQUEST"),
        }
        if props.get("GlobalSecondaryIndexes"):
            args["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
        if props.get("StreamSpecification"):
            args["StreamSpecification"] = {"StreamEnabled": True, **props["StreamSpecification"]}
        out = clients("dynamodb").create_table(**args)["TableDescription"]
        ttl = props.get("TimeToLiveSpecification")
        if ttl and ttl.get("Enabled"):
            clients("dynamodb").update_time_to_live(TableName=table, TimeToLiveSpecification=ttl)
        stack.refs[logical] = table
        stack.attrs[(logical, "Arn")] = out["TableArn"]
        if out.get("LatestStreamArn"):
            stack.attrs[(logical, "StreamArn")] = out["LatestStreamArn"]
    elif kind == "AWS::SQS::Queue":
        qname = props.get("QueueName", name + (".fifo" if props.get("FifoQueue") else ""))
        attributes = {
            k: (json.dumps(v) if isinstance(v, dict) else str(v).lower() if isinstance(v, bool) else str(v))
            for k, v in props.items()
            if k
            in {
                "VisibilityTimeout",
                "MessageRetentionPeriod",
                "DelaySeconds",
                "ReceiveMessageWaitTimeSeconds",
                "RedrivePolicy",
                "FifoQueue",
                "ContentBasedDeduplication",
                "MaximumMessageSize",
            }
        }
        url = clients("sqs").create_queue(QueueName=qname, Attributes=attributes)["QueueUrl"]
        stack.refs[logical] = url
        stack.attrs[(logical, "QueueUrl")] = url
        stack.attrs[(logical, "QueueName")] = qname
        stack.attrs[(logical, "Arn")] = f"arn:aws:sqs:{region}:{ACCOUNT}:{qname}"
    elif kind == "AWS::SNS::Topic":
        arn = clients("sns").create_topic(Name=props.get("TopicName", name))["TopicArn"]
        for sub in props.get("Subscription", []):
            clients("sns").subscribe(TopicArn=arn, Protocol=sub["Protocol"], Endpoint=sub["Endpoint"])
        stack.refs[logical] = arn
        stack.attrs[(logical, "TopicArn")] = arn
        stack.attrs[(logical, "TopicName")] = props.get("TopicName", name)
    elif kind == "AWS::SNS::Subscription":
        if props.get("Endpoint"):
            out = clients("sns").subscribe(
                TopicArn=props["TopicArn"], Protocol=props["Protocol"], Endpoint=props["Endpoint"]
            )
            stack.refs[logical] = out["SubscriptionArn"]
        else:
            stack.refs[logical] = f"{props['TopicArn']}:none"
    elif kind == "AWS::S3::Bucket":
        bucket = props.get("BucketName", name.lower())
        clients("s3").create_bucket(Bucket=bucket)
        notify = (props.get("NotificationConfiguration") or {}).get("EventBridgeConfiguration") or {}
        if notify.get("EventBridgeEnabled") in (True, "true"):  # Object Created etc. to the default bus
            clients("s3").put_bucket_notification_configuration(
                Bucket=bucket, NotificationConfiguration={"EventBridgeConfiguration": {}}
            )
        cors = (props.get("CorsConfiguration") or {}).get("CorsRules") or []
        if cors:  # the browser's presigned uploads (the web app's composer) are checked against these
            clients("s3").put_bucket_cors(
                Bucket=bucket, CORSConfiguration={"CORSRules": [_cors_rule(rule) for rule in cors]}
            )
        stack.refs[logical] = bucket
        stack.attrs[(logical, "Arn")] = f"arn:aws:s3:::{bucket}"
        stack.attrs[(logical, "DomainName")] = f"{bucket}.s3.amazonaws.com"
        stack.attrs[(logical, "RegionalDomainName")] = f"{bucket}.s3.{region}.amazonaws.com"
    elif kind == "AWS::Events::EventBus":
        bus = props.get("Name", name)
        arn = clients("events").create_event_bus(Name=bus)["EventBusArn"]
        stack.refs[logical] = bus
        stack.attrs[(logical, "Arn")] = arn
        stack.attrs[(logical, "Name")] = bus
    elif kind == "AWS::KMS::Key":
        meta = clients("kms").create_key(Description=props.get("Description", name))["KeyMetadata"]
        stack.refs[logical] = meta["KeyId"]
        stack.attrs[(logical, "Arn")] = meta["Arn"]
        stack.attrs[(logical, "KeyId")] = meta["KeyId"]
    elif kind == "AWS::KMS::Alias":
        clients("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
        stack.refs[logical] = props["AliasName"]
    elif kind == "AWS::Cognito::UserPool":
        _user_pool(stack, clients, logical, props, name)
    elif kind == "AWS::Cognito::UserPoolClient":
        out = clients("cognito-idp").create_user_pool_client(
            UserPoolId=props["UserPoolId"],
            ClientName=props.get("ClientName", name),
            GenerateSecret=bool(props.get("GenerateSecret", False)),
            ExplicitAuthFlows=props.get("ExplicitAuthFlows", []),
            ReadAttributes=props.get("ReadAttributes", []),
        )["UserPoolClient"]
        stack.refs[logical] = out["ClientId"]
    elif kind == "AWS::SES::EmailIdentity":
        clients("ses").verify_email_identity(EmailAddress=props["EmailIdentity"])
        stack.refs[logical] = props["EmailIdentity"]
    elif kind == "AWS::Serverless::Function":
        fname = props.get("FunctionName", name)
        arn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fname}"
        stack.refs[logical] = fname
        stack.attrs[(logical, "Arn")] = arn
    elif kind in {"AWS::Serverless::Api", "AWS::ApiGatewayV2::Api"}:
        api_id = logical.lower()[:10]
        stack.refs[logical] = api_id
        stack.attrs[(logical, "ApiEndpoint")] = f"wss://{api_id}.execute-api.{region}.amazonaws.com"
        stack.attrs[(logical, "RootResourceId")] = "root"
        stack.attrs[(logical, "ApiId")] = api_id
    elif kind.startswith("AWS::CloudFront::"):
        # The web app's CDN: locally chorus.local.webapp serves web/dist and the API under /api itself.
        stack.refs[logical] = f"local-{logical}"
        for attribute in ("Id", "DomainName", "FunctionMetadata.FunctionARN"):
            stack.attrs[(logical, attribute)] = f"local-{logical}"
    elif kind in _NAMED_ONLY:
        stack.refs[logical] = props.get("Name", name) if isinstance(props, dict) else name
        stack.attrs[(logical, "Arn")] = f"arn:aws:local:{region}:{ACCOUNT}:{logical}"
    else:
        raise RuntimeError(f"{logical}: resource type {kind} is not supported by the local runtime")
