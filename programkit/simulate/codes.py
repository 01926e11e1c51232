"""The finding codes the simulate stage reports (PK751–PK760), registered at import."""

from __future__ import annotations

from ..findings import Severity, register_code

G = "simulate"
register_code("PK751", "malformed-event", Severity.ERROR, "An events line is not a JSON object with 'at', 'person' and 'type'.",
              hint='Each line is one JSON object: {"at": ISO-8601 time, "person": id, "type": name, "data": {...}}.',
              example="events.jsonl:7: 'at' is not an ISO-8601 time: '2026-13-01'", group=G)
register_code("PK752", "event-out-of-order", Severity.ERROR, "An event is earlier than the event before it.",
              hint="Sort the events file by time (events must be in time order); the line was skipped.",
              example="events.jsonl:12: 2026-03-01T08:00:00Z is before the previous event (2026-03-02T09:00:00Z)",
              group=G)
register_code("PK753", "bad-person-row", Severity.ERROR, "A people CSV row has an empty or duplicate id.",
              hint="Give every row a unique, non-empty id; the row was skipped.",
              example="people.csv:4: id 'p2' is already used on line 3", group=G)
register_code("PK754", "not-simulated", Severity.WARNING,
              "A trigger or flow step is not simulated, so the simulation may differ from Marketo here.",
              hint="The simulator runs Person is Created, Data Value Changes, Score is Changed and Person is Synced "
                   "triggers and the Change Data Value, Change Score, Sync Person, Send Alert/Email and Change "
                   "Program Status steps.",
              example="campaigns/03.json /flow/1/step: 'Wait' is not simulated; the step is skipped", group=G)
register_code("PK755", "campaign-loop", Severity.ERROR,
              "One event set off more campaign runs than the simulator allows, probably a loop between campaigns.",
              hint="Check for campaigns that trigger each other (e.g. two Change Data Value steps on the same field).",
              example="events.jsonl:40: more than 1000 activities for person p9; the rest of this event was dropped",
              group=G)
register_code("PK756", "bundle-not-simulable", Severity.ERROR, "The bundle has errors, so it cannot be simulated.",
              hint="Run `programkit validate` and fix the errors first.",
              example="campaigns/02.json /type: 'trigered' is not one of ['trigger', 'batch']", group=G)
register_code("PK757", "unknown-person-column", Severity.WARNING,
              "A people CSV column is neither a standard field nor a field the bundle requires.",
              hint="Check the column's spelling (display or API name): its values are kept, but no campaign or "
                   "lifecycle condition reads a field by that name. A custom field belongs in requires.fields.",
              example="people.csv:1:3: column 'Email Adress' is not a person field; did you mean 'Email Address'?",
              group=G)
register_code("PK758", "unknown-person-state", Severity.WARNING,
              "A people CSV row gives a lifecycle state that the lifecycle does not have.",
              hint="Use one of the lifecycle's states, spelled as the lifecycle spells them; the value was ignored, "
                   "so the person starts in the initial state.",
              example="people.csv:4:5: Lead Status 'Contactin' is not a state of 'Lead Status' (Open, Contacting, "
                      "Qualified); the person starts in Open; did you mean 'Contacting'?",
              group=G)
register_code("PK759", "bad-person-value", Severity.WARNING,
              "A people CSV cell of a numeric field (score, integer, float, currency) is not a number.",
              hint="Give a number, e.g. 10 or 2.5; the value was kept as text, so numeric conditions on the field "
                   "do not hold and score changes count from 0.",
              example="people.csv:7:4: Person Score 'abc' is not a number", group=G)
register_code("PK760", "bad-setting", Severity.ERROR,
              "A --setting names no setting of the bundle's lead lifecycle, or its value is not true or false.",
              hint="Use NAME=true or NAME=false with a setting the lifecycle lists under 'settings'.",
              example="--setting foo=true: the lifecycle 'Referral Lifecycle' has no setting 'foo'; its settings: "
                      "requireDisqualificationReason", group=G)
