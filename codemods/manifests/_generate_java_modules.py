"""Writes _java_modules.py: which Maven artifact holds each AWS SDK for Java service package.

Run with the project venv: `python -m codemods.manifests._generate_java_modules`. Maven Central is not
reachable from where this tool is built, so the table is derived from what is:

- the service list: botocore's models (installed with boto3), one folder per service, each with the
  `serviceId` the SDKs generate their names from;
- the v2 module name: the v2 code generator's rule (`DefaultNamingStrategy.getServiceName`): pascal-case the
  `serviceId`, drop a leading "Amazon"/"Aws" and a trailing "Service", lower-case it. That name is both the
  module (`software.amazon.awssdk:<name>`) and the package (`software.amazon.awssdk.services.<name>`);
- the v1 package and artifact where they differ from the v2 name: AWS's own mapping,
  `v2-migration/src/main/resources/v1-v2-service-mapping-diffs.csv` in aws/aws-sdk-java-v2 (copied below as
  data), plus the few v1 services that v2 dropped.

tests/test_manifests.py checks that the botocore rule gives every module AWS's v1->v2 migration recipe names
(AWS_RECIPE_MODULES below) except those of retired services that botocore no longer ships (RETIRED).
"""
from __future__ import annotations

import gzip
import json
import os
import pprint
import re

import botocore

# Every v2 module AWS's own v1->v2 migration recipe maps a v1 artifact to (`newArtifactId` of
# aws/aws-sdk-java-v2 v2-migration/src/main/resources/META-INF/rewrite/upgrade-sdk-dependencies.yml, SDK 2.29.4,
# in file order, without its `new-service-template` placeholder; the recipe is generated from the v2 services/
# folder). v1 went into maintenance in 2024: these are the services it has, so the v1 table is built from this list,
# not from botocore's newer one.
AWS_RECIPE_MODULES = """
    iotdataplane oam iotwireless forecast licensemanagerlinuxsubscriptions docdbelastic emrcontainers
    timestreamwrite codebuild iotdeviceadvisor ssmcontacts iot1clickdevices pcaconnectorscep
    paymentcryptographydata codeguruprofiler kinesis kinesisvideo pinpoint chime iottwinmaker organizations
    licensemanager shield ssm mediastoredata sagemakerruntime signer servicecatalog timestreaminfluxdb
    lakeformation pcs licensemanagerusersubscriptions secretsmanager mediaconnect mwaa kms quicksight workmail
    eventbridge sagemakergeospatial frauddetector elastictranscoder elasticinference lookoutequipment
    pcaconnectorad pinpointsmsvoice securitylake cloudwatch glue costoptimizationhub servicequotas s3
    appintegrations sesv2 arczonalshift emr controltower iotfleethub personalize outposts workdocs
    networkmanager omics mediapackage medialive mediaconvert marketplaceagreement cognitosync sns datasync
    sagemakeredge greengrassv2 pinpointemail cleanroomsml sagemakera2iruntime neptunedata b2bi iotanalytics
    inspector2 groundstation fis proton voiceid cloudhsm ecrpublic sms cloudtraildata cognitoidentity config
    osis privatenetworks memorydb inspector translate mailmanager paymentcryptography chatbot fms ssmincidents
    vpclattice s3control qapps rdsdata kinesisanalyticsv2 qbusiness marketplacecommerceanalytics synthetics
    apptest costexplorer iotsecuretunneling cloudfront location wafv2 opensearch ec2instanceconnect
    iotthingsgraph repostspace route53recoveryreadiness health workmailmessageflow comprehendmedical
    iotfleetwise route53profiles bcmdataexports accessanalyzer glacier lightsail rum inspectorscan imagebuilder
    sagemakermetrics bedrockagent migrationhub simspaceweaver elasticbeanstalk freetier cloudsearchdomain
    neptune supportapp transfer deadline braket verifiedpermissions scheduler marketplacedeployment
    resourcegroups qldb databasemigration ecr dynamodb resiliencehub qldbsession route53domains macie2
    chimesdkmeetings applicationautoscaling entityresolution s3outposts grafana storagegateway rbin
    ioteventsdata route53recoverycluster ecs elasticloadbalancing connectcontactlens chimesdkmediapipelines
    kinesisvideosignaling qconnect kendraranking cloudsearch cloudwatchlogs appfabric lookoutvision
    route53resolver workspaces machinelearning costandusagereport taxsettings fsx codepipeline
    elasticloadbalancingv2 directory bedrockruntime codestarnotifications schemas sqs servicecatalogappregistry
    appmesh migrationhuborchestrator applicationdiscovery iot kinesisvideowebrtcstorage ebs amplify cloudcontrol
    wellarchitected marketplaceentitlement bedrock redshift connectcases appflow gamelift cloudtrail supplychain
    pipes evidently amplifyuibuilder managedblockchainquery applicationinsights chimesdkmessaging mediatailor
    mediapackagev2 resourceexplorer2 pi emrserverless appconfig networkmonitor sagemakerfeaturestoreruntime
    chimesdkidentity computeoptimizer connectparticipant mgn applicationcostprofiler keyspaces iam
    networkfirewall redshiftdata mediastore cloud9 wisdom sso auditmanager snowball kinesisanalytics
    route53recoverycontrolconfig opsworks identitystore connectcampaigns textract redshiftserverless eks support
    mturk apigatewayv2 devopsguru amp drs migrationhubconfig kafkaconnect kafka databrew codedeploy cloudhsmv2
    batch iot1clickprojects savingsplans migrationhubstrategy appsync backupgateway dlm amplifybackend datazone
    billingconductor workspacesthinclient ssmsap budgets m2 finspace detective lambda ssooidc panorama iotevents
    managedblockchain servicediscovery waf ivs directconnect mq pinpointsmsvoicev2 internetmonitor artifact
    iotsitewise lexmodelsv2 lexruntimev2 serverlessapplicationrepository eksauth snowdevicemanagement
    clouddirectory mediapackagevod codestarconnections codeartifact guardduty worklink cleanrooms
    customerprofiles trustedadvisor dax opsworkscm docdb acmpca firehose ivschat globalaccelerator ses
    codegurureviewer lexmodelbuilding medicalimaging account robomaker lexruntime autoscaling nimble
    iotjobsdataplane appconfigdata controlcatalog greengrass securityhub timestreamquery backup
    opensearchserverless cloudformation kendra connect elasticache sfn cognitoidentityprovider chimesdkvoice
    workspacesweb comprehend applicationsignals marketplacemetering devicefarm rekognition appstream polly rds
    pricing swf cloudwatchevents ssmquicksetup autoscalingplans datapipeline transcribe ivsrealtime
    personalizeruntime elasticsearch codecommit resourcegroupstaggingapi forecastquery healthlake rolesanywhere
    personalizeevents apigatewaymanagementapi launchwizard xray ssoadmin apigateway migrationhubrefactorspaces
    ram codeconnections efs bedrockagentruntime dataexchange sts sagemaker finspacedata marketplacecatalog acm
    athena route53 codegurusecurity tnb ec2 apprunner lookoutmetrics
""".split()

# v2 module -> (v1 package, v1 artifact suffix); "" when v1 has no such service. From AWS's
# v1-v2-service-mapping-diffs.csv ("v2","v1 import","v1 dependency").
V1_DIFFERENCES = {
    "apigateway": ("apigateway", "api-gateway"),
    "servicecatalogappregistry": ("appregistry", "appregistry"),
    "applicationdiscovery": ("applicationdiscovery", "discovery"),
    "sagemakera2iruntime": ("augmentedairuntime", "augmentedairuntime"),
    "acm": ("certificatemanager", "acm"),
    "cloudcontrol": ("cloudcontrolapi", "cloudcontrolapi"),
    "cloudsearch": ("cloudsearchv2", "cloudsearch"),
    "cloudsearchdomain": ("cloudsearchdomain", "cloudsearch"),
    "cloudwatchevents": ("cloudwatchevents", "events"),
    "evidently": ("cloudwatchevidently", "cloudwatchevidently"),
    "cloudwatchlogs": ("logs", "logs"),
    "rum": ("cloudwatchrum", "cloudwatchrum"),
    "cognitoidentityprovider": ("cognitoidp", "cognitoidp"),
    "connectcampaigns": ("connectcampaign", "connectcampaign"),
    "wisdom": ("connectwisdom", "connectwisdom"),
    "databasemigration": ("databasemigrationservice", "dms"),
    "datazone": ("datazone", "datazoneexternal"),
    "dynamodb": ("dynamodbv2", "dynamodb"),
    "efs": ("elasticfilesystem", "efs"),
    "emr": ("elasticmapreduce", "emr"),
    "databrew": ("gluedatabrew", "gluedatabrew"),
    "rolesanywhere": ("iamrolesanywhere", "iamrolesanywhere"),
    "iam": ("identitymanagement", "iam"),
    "iotdataplane": ("iotdata", "iot"),
    "kinesisanalytics": ("kinesisanalytics", "kinesis"),
    "firehose": ("kinesisfirehose", "kinesis"),
    "kinesisvideosignaling": ("kinesisvideosignalingchannels", "kinesisvideosignalingchannels"),
    "lexruntime": ("lexruntime", "lex"),
    "lookoutvision": ("lookoutforvision", "lookoutforvision"),
    "m2": ("mainframemodernization", "mainframemodernization"),
    "marketplacemetering": ("marketplacemetering", "marketplacemeteringservice"),
    "grafana": ("managedgrafana", "managedgrafana"),
    "mturk": ("mturk", "mechanicalturkrequester"),
    "migrationhubstrategy": ("migrationhubstrategyrecommendations", "migrationhubstrategyrecommendations"),
    "nimble": ("nimblestudio", "nimblestudio"),
    "privatenetworks": ("private5g", "private5g"),
    "amp": ("prometheus", "prometheus"),
    "rbin": ("recyclebin", "recyclebin"),
    "redshiftdata": ("redshiftdataapi", "redshiftdataapi"),
    "route53domains": ("route53domains", "route53"),
    "sagemakeredge": ("sagemakeredgemanager", "sagemakeredgemanager"),
    "sts": ("securitytoken", "sts"),
    "sms": ("servermigration", "servermigration"),
    "ses": ("simpleemail", "ses"),
    "sesv2": ("simpleemailv2", "sesv2"),
    "ssm": ("simplesystemsmanagement", "ssm"),
    "swf": ("simpleworkflow", "simpleworkflow"),
    "sfn": ("stepfunctions", "stepfunctions"),
    "cloudfrontkeyvaluestore": ("", ""),
    "codecatalyst": ("", ""),
    "kinesisvideoarchivedmedia": ("", ""),
    "kinesisvideomedia": ("", ""),
    "neptunegraph": ("", ""),
    "transcribestreaming": ("", ""),
}
# v1 packages whose artifact is not the v2 rule's: CloudWatch metrics (v1 has both a `cloudwatch` and a
# `metrics` package), and services v2 never had.
V1_ONLY = {"cloudwatch": "cloudwatch", "metrics": "cloudwatchmetrics", "simpledb": "simpledb",
           "importexport": "importexport"}
# Services v2 keeps inside another module's package (`shareModelConfig`): DynamoDB Streams lives in
# software.amazon.awssdk.services.dynamodb.streams, WAF Regional in ...services.waf.regional.
V2_SHARED = {"dynamodbstreams", "wafregional"}
# In botocore's models but never in the v2 SDK.
V2_ABSENT = {"importexport", "simpledb"}
# Models botocore no longer ships (the services were retired) but whose modules AWS's migration recipe names.
RETIRED = {
    "apptest", "cloudwatchevents", "elasticinference", "elastictranscoder", "evidently", "finspace", "finspacedata",
    "iot1clickdevices", "iot1clickprojects", "iotanalytics", "iotevents", "ioteventsdata", "iotfleethub",
    "lookoutmetrics", "lookoutvision", "nimble", "opsworks", "opsworkscm", "panorama", "privatenetworks", "qldb",
    "qldbsession", "robomaker", "simspaceweaver", "sms", "tnb", "transcribestreaming", "worklink",
}


def v2_name(service_id: str) -> str:
    name = "".join(word[:1].upper() + word[1:] for word in re.split(r"[^A-Za-z0-9]+", service_id) if word)
    name = name.lower()
    for prefix in ("amazon", "aws"):
        name = name.removeprefix(prefix)
    return name.removesuffix("service")


def botocore_services() -> dict[str, str]:
    """botocore service folder -> serviceId, from the newest model of each."""
    base = os.path.join(os.path.dirname(botocore.__file__), "data")
    found = {}
    for service in sorted(os.listdir(base)):
        folder = os.path.join(base, service)
        versions = sorted(v for v in os.listdir(folder) if os.path.isdir(os.path.join(folder, v))) if os.path.isdir(folder) else []
        if not versions:
            continue
        model = os.path.join(folder, versions[-1], "service-2.json")
        if os.path.exists(model + ".gz"):
            with gzip.open(model + ".gz") as packed:
                raw = packed.read()
        else:
            with open(model, "rb") as plain:
                raw = plain.read()
        found[service] = json.loads(raw)["metadata"]["serviceId"]
    return found


def tables() -> tuple[dict[str, str], dict[str, str]]:
    v2 = {v2_name(service_id) for service_id in botocore_services().values()} - V2_SHARED - V2_ABSENT
    v2 |= set(V1_DIFFERENCES)
    v2 |= set(AWS_RECIPE_MODULES)
    v2_modules = {name: name for name in sorted(v2)}
    v1_modules = {}
    for name in sorted(set(AWS_RECIPE_MODULES) | set(V1_DIFFERENCES)):
        package, artifact = V1_DIFFERENCES.get(name, (name, name))
        if package:
            v1_modules[package] = "aws-java-sdk-" + artifact
    for package, artifact in V1_ONLY.items():
        v1_modules[package] = "aws-java-sdk-" + artifact
    return dict(sorted(v1_modules.items())), v2_modules


def main() -> None:
    v1, v2 = tables()
    path = os.path.join(os.path.dirname(__file__), "_java_modules.py")
    with open(path, "w", encoding="utf-8") as out:
        out.write('"""Generated by _generate_java_modules.py from botocore ' + botocore.__version__
                  + ' and AWS\'s v1-v2 mapping: do not edit."""\n\n')
        out.write(f"BOTOCORE_VERSION = {botocore.__version__!r}\n\n")
        out.write(f"# com.amazonaws.services.<package> -> com.amazonaws:<artifact> ({len(v1)} entries)\n")
        out.write("V1_MODULES = " + pprint.pformat(v1, width=118, sort_dicts=False) + "\n\n")
        out.write(f"# software.amazon.awssdk.services.<package> -> software.amazon.awssdk:<artifact> ({len(v2)} entries)\n")
        out.write("V2_MODULES = " + pprint.pformat(v2, width=118, sort_dicts=False) + "\n")


if __name__ == "__main__":
    main()
