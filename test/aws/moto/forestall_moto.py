"""
moto_server with what Forestall's tests need and moto lacks (TOOLCHAIN.md), patched in-process:

- scheduled events per instance, seeded and changed through POST /moto-api/forestall/events;
- DescribeInstanceStatus returning Events, with the filters event.code, event.instance-event-id,
  instance-state-name, instance-state-code and availability-zone, IncludeAllInstances, MaxResults/NextToken
  pagination, and AWS's refusals (MaxResults with InstanceIds, more than 100 ids);
- ModifyInstanceEventStartTime with AWS's rules (AWS-FACTS section 3);
- event completion as AWS-FACTS section 1 says: a stop then start moves the host, so the instance's open
  events are gone; a user reboot completes a system-reboot event only when reboot migration succeeds
  (seedable per instance), and never an instance-reboot event;
- failing status checks on chosen instances (POST /moto-api/forestall/impaired);
- a virtual clock (POST /moto-api/forestall/clock {offsetMs}) for the end-to-end suite;
- a request log (GET /moto-api/forestall/requests, POST .../requests/reset) so tests count calls;
- injected faults (POST /moto-api/forestall/faults): throttling, 5xx before or after the action took effect,
  or any error code (Step Functions' TaskDoesNotExist), in the protocol of the service called;
- Step Functions requests logged with their JSON input (moto's SendTaskSuccess accepts any token silently).

Run: python3 forestall_moto.py -H 127.0.0.1 -p PORT (the arguments of moto_server).
AWS documents no error codes for ModifyInstanceEventStartTime's rules; InvalidParameterValue is our guess.
"""

import base64
import copy
import json
import os
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.core.responses import ActionResult, BaseResponse
from moto.ec2.exceptions import EC2ClientError
from moto.ec2.responses.instances import InstanceResponse
from moto.moto_api._internal import urls as moto_api_urls
from moto.server import main

LOCK = threading.RLock()
# instance id -> list of events (dicts with python datetimes); instance ids are unique across moto's regions.
EVENTS: dict[str, list[dict[str, Any]]] = {}
# instance id -> "succeeds" | "fails" (reboot migration outcome for a user reboot; default succeeds).
MIGRATION: dict[str, str] = {}
REQUESTS: list[dict[str, Any]] = []
FAULTS: list[dict[str, Any]] = []

MAX_IDS = 100
MOVE_MIN_AHEAD = timedelta(minutes=60)
START_GUARD = timedelta(minutes=5)
SUPPORTED_FILTERS = {
    "event.code",
    "event.instance-event-id",
    "instance-state-name",
    "instance-state-code",
    "availability-zone",
}


# Virtual time: the end-to-end suite runs days of rollout in seconds, so the server's clock (the rules of
# ModifyInstanceEventStartTime) moves with the handlers' clock. POST /moto-api/forestall/clock sets it.
CLOCK_OFFSET = [timedelta(0)]


def now() -> datetime:
    return datetime.now(timezone.utc) + CLOCK_OFFSET[0]


def parse_time(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=timezone.utc)
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def is_open(event: dict[str, Any]) -> bool:
    d = event["Description"]
    return not (d.startswith("[Completed]") or d.startswith("[Canceled]"))


class InvalidParameterValue(EC2ClientError):
    def __init__(self, message: str) -> None:
        super().__init__("InvalidParameterValue", message)


# ---------------------------------------------------------------- moto-api routes


def json_body(request: Any) -> Any:
    """The body of a POST sent with Content-Type: application/json."""
    return json.loads(request.get_data() or b"{}")


def reply(body: Any, status: int = 200) -> tuple[int, dict[str, str], str]:
    return status, {"Content-Type": "application/json"}, json.dumps(body, default=str)


def seed_events(request: Any, full_url: str, headers: Any) -> Any:
    """POST {events: [{instanceId, code, notBefore, notAfter?, notBeforeDeadline?, description?, eventId?}],
    migration?: {instanceId: "succeeds"|"fails"}}: upserts by eventId. GET lists them."""
    if request.method == "GET":
        with LOCK:
            return reply({k: [serial(e) for e in v] for k, v in EVENTS.items()})
    body = json_body(request)
    ids = []
    with LOCK:
        for spec in body.get("events", []):
            event = {
                "InstanceEventId": spec.get("eventId") or f"instance-event-{uuid.uuid4().hex[:17]}",
                "Code": spec["code"],
                "Description": spec.get("description", f"The instance is scheduled for {spec['code']}"),
                "NotBefore": parse_time(spec["notBefore"]),
            }
            for key, field in (("notAfter", "NotAfter"), ("notBeforeDeadline", "NotBeforeDeadline")):
                if spec.get(key) is not None:
                    event[field] = parse_time(spec[key])
            own = EVENTS.setdefault(spec["instanceId"], [])
            own[:] = [e for e in own if e["InstanceEventId"] != event["InstanceEventId"]] + [event]
            ids.append(event["InstanceEventId"])
        MIGRATION.update(body.get("migration", {}))
    return reply({"eventIds": ids})


def clear_event(request: Any, full_url: str, headers: Any) -> Any:
    """POST {instanceId, eventId, as: "completed"|"canceled"|"gone"}: what AWS does when it finishes an event."""
    body = json_body(request)
    with LOCK:
        own = EVENTS.get(body["instanceId"], [])
        match = [e for e in own if e["InstanceEventId"] == body["eventId"]]
        if not match:
            return reply({"error": "no such event"}, 404)
        how = body.get("as", "completed")
        if how == "gone":
            own.remove(match[0])
        else:
            prefix = "[Completed]" if how == "completed" else "[Canceled]"
            match[0]["Description"] = f"{prefix} {match[0]['Description']}"
    return reply({"status": "ok"})


def requests_log(request: Any, full_url: str, headers: Any) -> Any:
    with LOCK:
        return reply({"requests": list(REQUESTS)})


def requests_reset(request: Any, full_url: str, headers: Any) -> Any:
    with LOCK:
        REQUESTS.clear()
        FAULTS.clear()
    return reply({"status": "ok"})


def set_faults(request: Any, full_url: str, headers: Any) -> Any:
    """POST {faults: [{action, status, code, times?, after?}]}: the next `times` calls of `action` fail with
    HTTP `status` and error `code`; with `after: true` the action takes effect first (a lost reply)."""
    body = json_body(request)
    with LOCK:
        FAULTS.extend({"times": 1, "after": False, **f} for f in body.get("faults", []))
    return reply({"status": "ok"})


def set_impaired(request: Any, full_url: str, headers: Any) -> Any:
    """POST {instanceIds, impaired: bool}: these instances' status checks fail (or pass again) while running."""
    body = json_body(request)
    with LOCK:
        for instance_id in body.get("instanceIds", []):
            if body.get("impaired", True):
                IMPAIRED.add(instance_id)
            else:
                IMPAIRED.discard(instance_id)
    return reply({"impaired": sorted(IMPAIRED)})


def set_clock(request: Any, full_url: str, headers: Any) -> Any:
    """POST {offsetMs}: the server's clock runs offsetMs ahead of the real one (GET reads it)."""
    if request.method == "POST":
        CLOCK_OFFSET[0] = timedelta(milliseconds=int(json_body(request)["offsetMs"]))
    return reply({"offsetMs": CLOCK_OFFSET[0] / timedelta(milliseconds=1), "now": now().isoformat()})


moto_api_urls.url_paths.update(
    {
        "{0}/moto-api/forestall/clock$": set_clock,
        "{0}/moto-api/forestall/impaired$": set_impaired,
        "{0}/moto-api/forestall/events$": seed_events,
        "{0}/moto-api/forestall/events/clear$": clear_event,
        "{0}/moto-api/forestall/requests$": requests_log,
        "{0}/moto-api/forestall/requests/reset$": requests_reset,
        "{0}/moto-api/forestall/faults$": set_faults,
    }
)

# ---------------------------------------------------------------- request log and faults


def error_xml(code: str, message: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><Response><Errors><Error>'
        f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
        f"<RequestID>{uuid.uuid4()}</RequestID></Response>"
    )


def error_reply(self: BaseResponse, fault: dict[str, Any], message: str) -> Any:
    """An injected fault in the request's protocol: JSON for the JSON services (X-Amz-Target: DynamoDB, Step
    Functions), XML for the query services (EC2), so the SDK maps the code to its exception class."""
    status = fault["status"]
    if self.headers.get("X-Amz-Target"):
        body = json.dumps({"__type": fault["code"], "message": message})
        return status, {"status": status, "Content-Type": "application/x-amz-json-1.0"}, body
    return status, {"status": status}, error_xml(fault["code"], message)


def take_fault(action: str) -> dict[str, Any] | None:
    with LOCK:
        for f in FAULTS:
            if f["action"] == action and f["times"] > 0:
                f["times"] -= 1
                return f
    return None


original_call_action = BaseResponse.call_action


def call_action(self: BaseResponse) -> Any:
    action = self._get_action()
    entry: dict[str, Any] = {
        "service": getattr(self, "service_name", ""),
        "action": action,
        "at": now().isoformat(),  # the server's (virtual) time of the request
    }
    if entry["service"] == "ec2":
        entry["region"] = self.region
        entry["params"] = {k: v[0] for k, v in self.querystring.items() if k not in ("Action", "Version")}
    elif entry["service"] == "stepfunctions":
        # Step Functions' JSON input (SendTaskSuccess: taskToken, output), so tests see what was sent.
        entry["params"] = json.loads(self.body or "{}")
    with LOCK:
        REQUESTS.append(entry)
    fault = take_fault(action)
    if fault and not fault["after"]:
        return error_reply(self, fault, "injected")
    result = original_call_action(self)
    if fault:
        return error_reply(self, fault, "injected after effect")
    return result


BaseResponse.call_action = call_action  # type: ignore[method-assign]

# ---------------------------------------------------------------- DescribeInstanceStatus


def serial(event: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if isinstance(v, datetime) else v) for k, v in event.items()}


# instance id -> "impaired": its status checks fail while it runs (a host or OS that never comes back healthy).
IMPAIRED: set[str] = set()


def check_status(instance: Any) -> dict[str, Any]:
    if instance.state != "running":
        return {"Status": "not-applicable"}
    if instance.id in IMPAIRED:
        return {"Status": "impaired", "Details": [{"Name": "reachability", "Status": "failed"}]}
    return {"Status": "ok", "Details": [{"Name": "reachability", "Status": "passed"}]}


def status_of(instance: Any) -> dict[str, Any]:
    return {
        "InstanceId": instance.id,
        "AvailabilityZone": instance.placement,
        "InstanceState": {"Code": instance.state_code, "Name": instance.state},
        "InstanceStatus": check_status(instance),
        "SystemStatus": check_status(instance),
        "Events": copy.deepcopy(EVENTS.get(instance.id, [])),
    }


def passes(instance: Any, filters: dict[str, list[str]]) -> bool:
    events = EVENTS.get(instance.id, [])
    for name, values in filters.items():
        if name not in SUPPORTED_FILTERS:
            raise InvalidParameterValue(f"The filter '{name}' is not supported by this test server")
        if name == "event.code" and not any(e["Code"] in values for e in events):
            return False
        if name == "event.instance-event-id" and not any(e["InstanceEventId"] in values for e in events):
            return False
        if name == "instance-state-name" and instance.state not in values:
            return False
        if name == "instance-state-code" and str(instance.state_code) not in values:
            return False
        if name == "availability-zone" and instance.placement not in values:
            return False
    return True


def describe_instance_status(self: InstanceResponse) -> ActionResult:
    ids = self._get_param("InstanceIds", [])
    include_all = self._get_bool_param("IncludeAllInstances", False)
    max_results = self._get_param("MaxResults")
    token = self._get_param("NextToken")
    if ids and max_results is not None:
        raise EC2ClientError(
            "InvalidParameterCombination",
            "The parameter instancesSet cannot be used with the parameter maxResults",
        )
    if len(ids) > MAX_IDS:
        raise InvalidParameterValue(f"You may specify at most {MAX_IDS} instance ids")
    if max_results is not None and not 5 <= int(max_results) <= 1000:
        raise InvalidParameterValue("Value for parameter maxResults must be between 5 and 1000")
    filters = self._filters_from_querystring()
    backend = self.ec2_backend
    instances = backend.get_multi_instances_by_id(ids) if ids else backend.all_instances()
    with LOCK:
        selected = [
            status_of(i)
            for i in instances
            if (include_all or i.state == "running") and passes(i, filters)
        ]
    start = int(base64.b64decode(token).decode()) if token else 0
    if max_results is None:
        return ActionResult({"InstanceStatuses": selected})
    end = start + int(max_results)
    result: dict[str, Any] = {"InstanceStatuses": selected[start:end]}
    if end < len(selected):
        result["NextToken"] = base64.b64encode(str(end).encode()).decode()
    return ActionResult(result)


# ---------------------------------------------------------------- ModifyInstanceEventStartTime


def modify_instance_event_start_time(self: InstanceResponse) -> ActionResult:
    instance_id = self._get_param("InstanceId")
    event_id = self._get_param("InstanceEventId")
    new_start = parse_time(self._get_param("NotBefore"))
    self.ec2_backend.get_instance(instance_id)  # InvalidInstanceID.NotFound
    self.error_on_dryrun()
    at = now()
    with LOCK:
        match = [e for e in EVENTS.get(instance_id, []) if e["InstanceEventId"] == event_id]
        if not match or not is_open(match[0]):
            raise EC2ClientError(
                "InvalidInstanceEventID.NotFound", f"The event '{event_id}' does not exist or is not open"
            )
        event = match[0]
        deadline = event.get("NotBeforeDeadline")
        if deadline is None:
            raise InvalidParameterValue("This event cannot be rescheduled: it has no NotBeforeDeadline")
        if event["NotBefore"] - at < START_GUARD:
            raise InvalidParameterValue("The event has started or starts within 5 minutes")
        if new_start > deadline:
            raise InvalidParameterValue(f"The new start time is later than the deadline {deadline.isoformat()}")
        if new_start - at < MOVE_MIN_AHEAD:
            raise InvalidParameterValue("The new start time must be at least 60 minutes from now")
        shift = new_start - event["NotBefore"]
        event["NotBefore"] = new_start
        if "NotAfter" in event:
            event["NotAfter"] = event["NotAfter"] + shift
        return ActionResult({"Event": copy.deepcopy(event)})


# ---------------------------------------------------------------- completion on reboot and stop-start

original_reboot = InstanceResponse.reboot_instances
original_start = InstanceResponse.start_instances


def reboot_instances(self: InstanceResponse) -> Any:
    result = original_reboot(self)
    with LOCK:
        for instance_id in self._get_param("InstanceIds", []):
            if MIGRATION.get(instance_id, "succeeds") != "succeeds":
                continue
            for event in EVENTS.get(instance_id, []):
                # A user reboot never completes instance-reboot (AWS-FACTS section 1).
                if event["Code"] == "system-reboot" and is_open(event):
                    event["Description"] = f"[Completed] {event['Description']}"
    return result


def start_instances(self: InstanceResponse) -> Any:
    ids = self._get_param("InstanceIds", [])
    was_stopped = {i.id for i in self.ec2_backend.get_multi_instances_by_id(ids) if i.state == "stopped"}
    result = original_start(self)
    with LOCK:
        for instance_id in was_stopped:
            # A new host: the open events no longer apply (AWS-FACTS section 1, stop+start).
            EVENTS[instance_id] = [e for e in EVENTS.get(instance_id, []) if not is_open(e)]
    return result


InstanceResponse.describe_instance_status = describe_instance_status  # type: ignore[method-assign]
InstanceResponse.modify_instance_event_start_time = modify_instance_event_start_time  # type: ignore[attr-defined]
InstanceResponse.reboot_instances = reboot_instances  # type: ignore[method-assign]
InstanceResponse.start_instances = start_instances  # type: ignore[method-assign]


def exit_with_parent() -> None:
    """Ends the server when the test process that started it is gone (a crashed jest leaves no orphan)."""
    parent = os.getppid()
    while True:
        time.sleep(1)
        if os.getppid() != parent:
            os._exit(0)


# ================================================================ Auto Scaling and ELBv2 (the drain adapter)
# Added for lambda/aws/asg-drain.ts (test/aws/drain.test.ts, test/aws/opt-in.test.ts). moto 5.2 serves
# DescribeAutoScalingGroups (with Tags, paginated), EnterStandby/ExitStandby, DescribeTargetGroups,
# DescribeTargetGroupAttributes, DescribeTargetHealth and Register/DeregisterTargets, but:
# - its request log above keeps query parameters for EC2 only: Auto Scaling and ELBv2 requests get theirs
#   here (so tests count instance ids per EnterStandby at the server);
# - EnterStandby/ExitStandby check nothing: here they refuse, as AWS does (AWS-FACTS section 9), more than
#   20 ids, an unknown group (moto answered HTTP 500), an instance not in the group or not in the required
#   lifecycle state, a decrement below MinSize, and an ExitStandby that would raise desired past MaxSize;
# - DescribeTargetGroups ignores PageSize and never returns NextMarker: here it pages (Marker = index).

from moto.autoscaling.exceptions import ValidationError as AutoScalingValidationError  # noqa: E402
from moto.autoscaling.responses import AutoScalingResponse  # noqa: E402
from moto.elbv2.exceptions import ELBClientError  # noqa: E402
from moto.elbv2.responses import ELBV2Response  # noqa: E402

PARAM_LOGGED_SERVICES = {"autoscaling", "elbv2"}
STANDBY_MAX_IDS = 20
logged_call_action = BaseResponse.call_action


def call_action_with_params(self: BaseResponse) -> Any:
    """The logged call, plus the query parameters of an Auto Scaling or ELBv2 request in its log entry.
    The lock (re-entrant) is held across the call so that the entry found is this request's."""
    if getattr(self, "service_name", "") not in PARAM_LOGGED_SERVICES:
        return logged_call_action(self)
    params = {k: v[0] for k, v in self.querystring.items() if k not in ("Action", "Version")}
    with LOCK:
        before = len(REQUESTS)
        result = logged_call_action(self)
        if len(REQUESTS) > before:
            REQUESTS[before]["params"] = params
    return result


def standby_members(self: AutoScalingResponse, lifecycle: str) -> tuple[Any, list[Any]]:
    """The group and the named members, after the checks AWS makes before EnterStandby/ExitStandby."""
    name = self._get_param("AutoScalingGroupName")
    ids = self._get_param("InstanceIds", [])
    if not 1 <= len(ids) <= STANDBY_MAX_IDS:
        raise AutoScalingValidationError(
            "1 validation error detected: Value at 'instanceIds' failed to satisfy constraint: "
            f"Member must have length between 1 and {STANDBY_MAX_IDS}"
        )
    group = self.autoscaling_backend.autoscaling_groups.get(name)
    if group is None:
        raise AutoScalingValidationError(
            f"AutoScalingGroup name not found - AutoScalingGroup '{name}' not found"
        )
    by_id = {state.instance.id: state for state in group.instance_states}
    members = []
    for instance_id in dict.fromkeys(ids):
        state = by_id.get(instance_id)
        if state is None:
            raise AutoScalingValidationError(
                f"The instance {instance_id} is not part of Auto Scaling group {name}."
            )
        if state.lifecycle_state != lifecycle:
            raise AutoScalingValidationError(f"The instance {instance_id} is not in {lifecycle}.")
        members.append(state)
    return group, members


def sizes(group: Any) -> str:
    return (
        f"AutoScalingGroup {group.name} has min-size={group.min_size}, max-size={group.max_size}, "
        f"and desired-size={group.desired_capacity}."
    )


original_enter_standby = AutoScalingResponse.enter_standby
original_exit_standby = AutoScalingResponse.exit_standby


def enter_standby(self: AutoScalingResponse) -> Any:
    group, members = standby_members(self, "InService")
    decrement = self._get_bool_param("ShouldDecrementDesiredCapacity")
    if decrement and group.desired_capacity - len(members) < group.min_size:
        raise AutoScalingValidationError(
            f"{sizes(group)} To place into standby {len(members)} instances, please update the "
            "AutoScalingGroup sizes appropriately."
        )
    return original_enter_standby(self)


def exit_standby(self: AutoScalingResponse) -> Any:
    group, members = standby_members(self, "Standby")
    if group.desired_capacity + len(members) > group.max_size:
        raise AutoScalingValidationError(
            f"{sizes(group)} To bring {len(members)} instances out of standby, please update the "
            "AutoScalingGroup sizes appropriately."
        )
    return original_exit_standby(self)


original_describe_target_groups = ELBV2Response.describe_target_groups


def describe_target_groups(self: ELBV2Response) -> Any:
    """moto's answer, one page of PageSize target groups from Marker (an index) on, with NextMarker."""
    page_size = self._get_param("PageSize")
    result = original_describe_target_groups(self)
    if page_size is None:
        return result
    if not 1 <= int(page_size) <= 400:
        raise ELBClientError("ValidationError", "PageSize must be between 1 and 400")
    groups = list(result.result["TargetGroups"])  # type: ignore[index]
    start = int(self._get_param("Marker") or 0)
    end = start + int(page_size)
    page: dict[str, Any] = {"TargetGroups": groups[start:end]}
    if end < len(groups):
        page["NextMarker"] = str(end)
    return ActionResult(page)


BaseResponse.call_action = call_action_with_params  # type: ignore[method-assign]
AutoScalingResponse.enter_standby = enter_standby  # type: ignore[method-assign]
AutoScalingResponse.exit_standby = exit_standby  # type: ignore[method-assign]
ELBV2Response.describe_target_groups = describe_target_groups  # type: ignore[method-assign]


if __name__ == "__main__":
    threading.Thread(target=exit_with_parent, daemon=True).start()
    main(sys.argv[1:])
