"""The policy-engine emulator (agentcore_policy.py) as agentform meets it:
through the launcher, with an SDK client. Each behaviour the Rust tests
rely on is shown here: engines and policies go through CREATING to ACTIVE
and through DELETING to gone, Cedar is checked against the gateways moto
has (findings reported as CREATE_FAILED, as AWS does), an engine is not
deleted while it has policies or a gateway uses it, names follow the
model's whole-name pattern, and moto keeps its own tags."""

import pytest
from botocore.exceptions import ClientError
from conftest import ACCOUNT, REGION, error, violations

ROLE = f"arn:aws:iam::{ACCOUNT}:role/gw"
TOOLS = [
    {"name": "add_numbers", "description": "Adds", "inputSchema": {"type": "object"}},
    {"name": "get_time", "description": "Time", "inputSchema": {"type": "object"}},
]


@pytest.fixture
def gateway(control):
    """A moto gateway with one Lambda target `calc` offering TOOLS."""
    made = control.create_gateway(
        name="policy-test-gw", roleArn=ROLE, protocolType="MCP", authorizerType="AWS_IAM"
    )
    control.create_gateway_target(
        gatewayIdentifier=made["gatewayId"],
        name="calc",
        targetConfiguration={
            "mcp": {
                "lambda": {
                    "lambdaArn": f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:calc",
                    "toolSchema": {"inlinePayload": TOOLS},
                }
            }
        },
        credentialProviderConfigurations=[{"credentialProviderType": "GATEWAY_IAM_ROLE"}],
    )
    yield made
    for t in control.list_gateway_targets(gatewayIdentifier=made["gatewayId"])["items"]:
        control.delete_gateway_target(gatewayIdentifier=made["gatewayId"], targetId=t["targetId"])
    control.delete_gateway(gatewayIdentifier=made["gatewayId"])


def permit(gateway_arn: str, *actions: str) -> str:
    listed = ", ".join(f'AgentCore::Action::"{a}"' for a in actions)
    return (
        f"permit(principal, action in [{listed}], "
        f'resource == AgentCore::Gateway::"{gateway_arn}");'
    )


def engine(control, name: str) -> dict:
    made = control.create_policy_engine(name=name, tags={"agentform:project": "t"})
    assert made["status"] == "CREATING"
    assert control.get_policy_engine(policyEngineId=made["policyEngineId"])["status"] == "ACTIVE"
    return made


def policy(control, engine_id: str, name: str, statement: str, **more) -> dict:
    return control.create_policy(
        policyEngineId=engine_id, name=name, definition={"cedar": {"statement": statement}}, **more
    )


def test_an_engine_is_created_tagged_listed_and_deleted(control):
    made = engine(control, "lifecycle_engine")
    eid = made["policyEngineId"]
    assert eid.startswith("lifecycle_engine-") and len(eid) == len("lifecycle_engine-") + 10
    assert made["policyEngineArn"] == (
        f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:policy-engine/{eid}"
    )
    arn = made["policyEngineArn"]
    assert control.list_tags_for_resource(resourceArn=arn)["tags"] == {"agentform:project": "t"}
    control.tag_resource(resourceArn=arn, tags={"k": "v"})
    control.untag_resource(resourceArn=arn, tagKeys=["agentform:project"])
    assert control.list_tags_for_resource(resourceArn=arn)["tags"] == {"k": "v"}
    listed = [e["name"] for e in control.list_policy_engines()["policyEngines"]]
    assert "lifecycle_engine" in listed

    updated = control.update_policy_engine(
        policyEngineId=eid, description={"optionalValue": "now described"}
    )
    assert updated["status"] == "UPDATING"
    got = control.get_policy_engine(policyEngineId=eid)
    assert (got["status"], got["description"]) == ("ACTIVE", "now described")

    assert control.delete_policy_engine(policyEngineId=eid)["status"] == "DELETING"
    with pytest.raises(ClientError) as e:
        control.get_policy_engine(policyEngineId=eid)
    assert error(e)[:2] == (404, "ResourceNotFoundException")


def test_a_policy_naming_the_gateways_tools_becomes_active(control, gateway):
    eid = engine(control, "active_engine")["policyEngineId"]
    made = policy(
        control, eid, "calc_only", permit(gateway["gatewayArn"], "calc___add_numbers"),
        validationMode="FAIL_ON_ANY_FINDINGS",
    )
    assert made["status"] == "CREATING"
    assert made["policyArn"].startswith(
        f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:policy-engine/{eid}/policy/calc_only-"
    )
    got = control.get_policy(policyEngineId=eid, policyId=made["policyId"])
    assert (got["status"], got["statusReasons"], got["enforcementMode"]) == ("ACTIVE", [], "ACTIVE")
    scoped = control.list_policies(policyEngineId=eid, targetResourceScope=gateway["gatewayArn"])
    assert [p["name"] for p in scoped["policies"]] == ["calc_only"]

    # A duplicate name in the same engine is a conflict.
    with pytest.raises(ClientError) as e:
        policy(control, eid, "calc_only", permit(gateway["gatewayArn"], "calc___get_time"))
    assert error(e)[:2] == (409, "ConflictException")

    # The engine keeps its policies, and its gateway keeps it.
    control.update_gateway(
        gatewayIdentifier=gateway["gatewayId"], name="policy-test-gw", roleArn=ROLE,
        protocolType="MCP", authorizerType="AWS_IAM",
        policyEngineConfiguration={"arn": made["policyArn"].split("/policy/")[0], "mode": "ENFORCE"},
    )
    with pytest.raises(ClientError) as e:
        control.delete_policy_engine(policyEngineId=eid)
    assert error(e)[:2] == (409, "ConflictException") and "still has 1 policies" in error(e)[2]
    control.delete_policy(policyEngineId=eid, policyId=made["policyId"])
    with pytest.raises(ClientError) as e:
        control.get_policy(policyEngineId=eid, policyId=made["policyId"])
    assert error(e)[1] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as e:
        control.delete_policy_engine(policyEngineId=eid)
    assert "associated with gateway(s)" in error(e)[2]
    control.update_gateway(
        gatewayIdentifier=gateway["gatewayId"], name="policy-test-gw", roleArn=ROLE,
        protocolType="MCP", authorizerType="AWS_IAM",
    )
    control.delete_policy_engine(policyEngineId=eid)


def test_findings_fail_the_policy_after_creating_as_on_aws(control, gateway):
    eid = engine(control, "findings_engine")["policyEngineId"]
    made = policy(control, eid, "wrong_tool", permit(gateway["gatewayArn"], "calc___subtract"))
    assert made["status"] == "CREATING"
    got = control.get_policy(policyEngineId=eid, policyId=made["policyId"])
    assert got["status"] == "CREATE_FAILED"
    (reason,) = got["statusReasons"]
    assert 'Unknown action AgentCore::Action::"calc___subtract"' in reason
    assert "calc___add_numbers, calc___get_time" in reason

    # A failed policy can be fixed by an update...
    control.update_policy(
        policyEngineId=eid, policyId=made["policyId"],
        definition={"cedar": {"statement": permit(gateway["gatewayArn"], "calc___get_time")}},
    )
    fixed = control.get_policy(policyEngineId=eid, policyId=made["policyId"])
    assert (fixed["status"], fixed["statusReasons"]) == ("ACTIVE", [])
    # ...and an update with findings fails it again, keeping the statement.
    unknown = f"arn:aws:bedrock-agentcore:{REGION}:{ACCOUNT}:gateway/nope-0123456789"
    control.update_policy(
        policyEngineId=eid, policyId=made["policyId"],
        definition={"cedar": {"statement": permit(unknown, "calc___get_time")}},
    )
    failed = control.get_policy(policyEngineId=eid, policyId=made["policyId"])
    assert failed["status"] == "UPDATE_FAILED"
    assert "Unknown gateway" in failed["statusReasons"][0]
    assert unknown in failed["definition"]["cedar"]["statement"]

    # IGNORE_ALL_FINDINGS lets an unknown action through, never bad syntax.
    ignored = policy(
        control, eid, "ignored", permit(gateway["gatewayArn"], "calc___subtract"),
        validationMode="IGNORE_ALL_FINDINGS",
    )
    assert control.get_policy(policyEngineId=eid, policyId=ignored["policyId"])["status"] == "ACTIVE"
    broken = policy(
        control, eid, "broken", "allow(principal, action, resource) when { true };",
        validationMode="IGNORE_ALL_FINDINGS",
    )
    got = control.get_policy(policyEngineId=eid, policyId=broken["policyId"])
    assert got["status"] == "CREATE_FAILED"
    assert "expected permit or forbid" in got["statusReasons"][0]
    for p in control.list_policies(policyEngineId=eid)["policies"]:
        control.delete_policy(policyEngineId=eid, policyId=p["policyId"])
    control.get_policy_engine(policyEngineId=eid)  # lets the deletes end
    control.delete_policy_engine(policyEngineId=eid)


def test_names_must_match_the_model_pattern_whole(control, endpoint):
    before = len(violations(endpoint))
    with pytest.raises(ClientError) as e:
        control.create_policy_engine(name="my-engine")
    assert error(e)[:2] == (400, "ValidationException")
    assert "pattern" in error(e)[2]
    assert len(violations(endpoint)) == before + 1


def test_lists_come_in_pages(control):
    made = [engine(control, f"paged_{i}")["policyEngineId"] for i in range(3)]
    first = control.list_policy_engines(maxResults=2)
    assert len(first["policyEngines"]) == 2 and "nextToken" in first
    rest = control.list_policy_engines(maxResults=2, nextToken=first["nextToken"])
    names = [e["name"] for e in first["policyEngines"] + rest["policyEngines"]]
    assert [n for n in names if n.startswith("paged_")] == ["paged_0", "paged_1", "paged_2"]
    for eid in made:
        control.delete_policy_engine(policyEngineId=eid)


def test_gateway_tags_still_reach_moto(control, gateway):
    control.tag_resource(resourceArn=gateway["gatewayArn"], tags={"a": "b"})
    assert control.list_tags_for_resource(resourceArn=gateway["gatewayArn"])["tags"]["a"] == "b"
