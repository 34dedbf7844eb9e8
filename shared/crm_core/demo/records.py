"""Deterministic sales and service records around one demo customer, as input to the services.

Like the customers (:mod:`crm_core.demo.generate`), customer ``index``'s records come from a
``random.Random`` seeded with ``(seed, index)``, so a slice can be generated on its own. Nothing
reads the clock: dates are drawn around the ``today`` the caller passes (the seeder gives the
company's today, so some follow-ups are due today and some overdue); times carry the company's
offset (+08:00, Asia/Shanghai).

References between records are indexes the writer resolves to ids: ``product`` (into the
catalogue), ``contact`` (into the customer's contacts), ``requirement`` (into its analyses),
``contract`` (into its contracts, in the order of the won opportunities), ``criterion``. What a
service fills in itself (numbers, stage history, SLA times, totals) is left to it.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from decimal import Decimal
from typing import Any

from crm_core.demo import sales_data as s
from crm_core.demo.catalogue import DemoProduct, products_for
from crm_core.demo.generate import DemoCustomer
from crm_core.opportunities.funnel import DEFAULT as FUNNEL
from crm_core.opportunities.funnel import LOST, WON
from crm_core.orders.service import line_amount
from crm_core.visits.rules import blocking_window

TZ = timezone(timedelta(hours=8), "Asia/Shanghai")
ZONE = "Asia/Shanghai"
CENT = Decimal("0.01")
OPEN_STAGES = tuple(st.key for st in FUNNEL.stages if st.key not in (WON, LOST))
# Visit times tried in turn until one is outside the customer's "do not visit" windows.
VISIT_TIMES = (time(10, 30), time(9, 30), time(15, 0), time(16, 30), time(14, 30), time(11, 0))


@dataclass(frozen=True, slots=True)
class Profile:
    """Mean number of each record per customer (``tickets``: per customer with a delivery)."""

    requirements: float
    opportunities: float
    interactions: float
    follow_ups: float
    complaints: float
    tickets: float
    orders: float
    visits: float
    evaluations: float
    pool: float  # share of customers left in the shared pool


# The demo that ``crm up`` seeds through the services: a few records a customer.
DEMO = Profile(0.3, 0.7, 1.5, 0.6, 0.12, 0.6, 0.35, 0.3, 0.1, 0.06)
# The figures for the benchmark tenant.
BENCH = Profile(0.3, 1.0, 3.0, 1.0, 0.2, 0.6, 0.6, 0.5, 0.1, 0.06)


@dataclass(frozen=True, slots=True)
class Staff:
    sales: tuple[uuid.UUID, ...]  # owners of customers that have none in the generator
    service: tuple[uuid.UUID, ...]  # assignees of tickets and complaints


@dataclass(slots=True)
class Rec:
    """One record: the fields to create it with, then the updates that move it on."""

    fields: dict[str, Any]
    updates: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class DemoContract:
    fields: dict[str, Any]
    deliveries: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    delivered_on: date | None  # the first delivery made, if any


@dataclass(slots=True)
class DemoOpportunity:
    fields: dict[str, Any]  # "products": [{"product", "quantity"}], "requirement": index
    path: list[dict[str, Any]]  # stage moves after the first stage, in order
    contract: DemoContract | None = None


@dataclass(slots=True)
class DemoOrder:
    fields: dict[str, Any]  # "lines": [{"product", "quantity", "discount"}], "contract": index
    statuses: list[str]
    payments: list[dict[str, Any]]
    refunds: list[dict[str, Any]]  # "payment": index into payments


@dataclass(slots=True)
class DemoRecords:
    in_pool: bool
    requirements: list[Rec]
    opportunities: list[DemoOpportunity]
    orders: list[DemoOrder]
    tickets: list[Rec]
    complaints: list[Rec]
    interactions: list[Rec]
    follow_ups: list[Rec]
    visits: list[tuple[Rec | None, Rec | None]]  # (plan, record); a record may carry its plan
    evaluations: list[Rec]

    @property
    def contracts(self) -> list[DemoContract]:
        return [o.contract for o in self.opportunities if o.contract is not None]


def _poisson(rng: random.Random, mean: float) -> int:
    limit, k, p = math.exp(-mean), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


def _at(day: date, at: time) -> datetime:
    return datetime.combine(day, at, TZ)


def _money(value: float) -> Decimal:
    return Decimal(str(value)).quantize(CENT)


class _Records:
    """Builds one customer's records at a time; one Random, re-seeded per index."""

    def __init__(
        self, seed: int, today: date, staff: Staff, products: list[DemoProduct], profile: Profile
    ) -> None:
        self.rng = random.Random()
        self.base = ((seed % (1 << 64)) << 40) | (1 << 110)
        self.today, self.staff, self.products, self.profile = today, staff, products, profile
        self.en = False
        self.contacts = 0

    def t(self, pair: tuple[str, str]) -> str:
        return pair[self.en]

    def pick(self, pairs: tuple[tuple[str, str], ...]) -> str:
        return self.rng.choice(pairs)[self.en]

    def past(self, lo: int, hi: int) -> date:
        return self.today - timedelta(days=self.rng.randint(lo, hi))

    def stamp(self, day: date) -> datetime:
        return _at(day, time(self.rng.randint(9, 17), self.rng.choice((0, 10, 20, 30, 40, 50))))

    def contact(self) -> int | None:
        return (
            self.rng.randrange(self.contacts) if self.contacts and self.rng.random() < 0.8 else None
        )

    def with_contact(self, fields: dict[str, Any]) -> dict[str, Any]:
        if (i := self.contact()) is not None:
            fields["contact"] = i
        return fields

    def lines(self, preferred: list[int], n: int) -> list[tuple[int, Decimal]]:
        rng, out = self.rng, []
        for i in rng.sample(preferred, min(n, len(preferred))):
            p = self.products[i]
            qty = 1 if p.unit_price > 5_000 else rng.choice((2, 5, 10, 20, 50))
            out.append((i, Decimal(qty * rng.randint(1, 3))))
        return out

    def build(self, index: int, customer: DemoCustomer) -> DemoRecords:
        rng = self.rng
        rng.seed(self.base | index)
        self.en, self.contacts = customer.english, len(customer.contacts)
        c, prof = customer.customer, self.profile
        owner = c["owner_id"] or self.staff.sales[index % len(self.staff.sales)]
        stage, grade = c["lifecycle_stage"], c["grade"]
        in_pool = stage not in ("repeat", "loyal") and rng.random() < prof.pool
        buys = {"lead": 0.0, "new": 0.6, "repeat": 1.4, "loyal": 1.8, "at_risk": 0.8}.get(
            stage, 0.3
        )
        buys *= {"A": 1.6, "B": 1.3}.get(grade, 1.0)
        preferred = products_for(self.products, c["preferred_products"], rng)
        reqs = [self.requirement(owner) for _ in range(_poisson(rng, prof.requirements))]
        opps = [
            self.opportunity(c, owner, preferred, stage, in_pool, len(reqs))
            for _ in range(_poisson(rng, prof.opportunities * (0.5 + buys / 2)))
        ]
        contracts = [o.contract for o in opps if o.contract is not None]
        orders = [self.contract_order(i, ct, o) for i, (ct, o) in enumerate(
            (o.contract, o) for o in opps if o.contract is not None) if rng.random() < 0.7]  # fmt: skip
        if stage != "lead":
            for _ in range(_poisson(rng, prof.orders * buys)):
                orders.append(
                    self.order(
                        preferred, None, self.lines(preferred, rng.randint(1, 4)), self.past(1, 700)
                    )
                )
        delivered = [ct.delivered_on for ct in contracts if ct.delivered_on is not None]
        tickets = []
        if delivered:
            products = [
                self.products[ln["product"]].name
                for o in opps
                if o.contract
                for ln in o.fields["products"]
            ]
            tickets = [
                self.ticket(min(delivered), products)
                for _ in range(_poisson(rng, prof.tickets * 1.5))
            ]
        risk = 2.0 if stage in ("at_risk", "churned") else 1.0
        complaints = [self.complaint() for _ in range(_poisson(rng, prof.complaints * risk))]
        talks = [self.interaction(owner) for _ in range(_poisson(rng, prof.interactions / risk))]
        follow = [self.follow_up(owner, in_pool) for _ in range(_poisson(rng, prof.follow_ups))]
        visits = [self.visit(c, owner, in_pool) for _ in range(_poisson(rng, prof.visits))]
        evals = [
            self.evaluation(owner, grade) for _ in range(_poisson(rng, prof.evaluations * buys))
        ]
        return DemoRecords(in_pool, reqs, opps, orders, tickets, complaints, talks, follow, visits, evals)  # fmt: skip

    def requirement(self, owner: uuid.UUID) -> Rec:
        rng = self.rng
        summary, features, solution = rng.choice(s.REQUIREMENTS)
        f = self.with_contact({
            "summary": self.t(summary), "product_features": self.t(features),
            "service_content": self.pick(s.SERVICE_CONTENT), "owner_id": owner,
            "desired_delivery_on": self.today + timedelta(days=rng.randint(15, 180)),
            "priority": rng.choice(("low", "medium", "medium", "high", "urgent")),
            "analysis": self.pick(s.NEEDS), "proposed_solution": self.t(solution),
        })  # fmt: skip
        r = rng.random()
        path = ([] if r < 0.3 else [{"implementation_status": "rejected"}] if r < 0.4 else
                [{"implementation_status": st} for st in ("accepted", "in_progress", "implemented")[: rng.randint(1, 3)]])  # fmt: skip
        if path and path[-1]["implementation_status"] == "implemented":
            path[-1]["effect"] = self.pick(s.EFFECTS)
        return Rec(f, path)

    def opportunity(
        self, c: dict[str, Any], owner: uuid.UUID, preferred: list[int], stage: str,
        in_pool: bool, requirements: int,
    ) -> DemoOpportunity:  # fmt: skip
        rng = self.rng
        lines = self.lines(preferred, rng.randint(1, 3))
        category = self.products[lines[0][0]].category
        short = c["name"].split("市")[-1][:4] if not self.en else c["name"].split()[0]
        r = rng.random()
        won_share = (
            0.0 if stage == "lead" or in_pool else {"repeat": 0.4, "loyal": 0.5}.get(stage, 0.22)
        )
        outcome = (
            WON if r < won_share else LOST if r < won_share + (0.2 if not in_pool else 1) else None
        )
        reach = rng.randrange(len(OPEN_STAGES)) if outcome != WON else len(OPEN_STAGES) - 1
        path: list[dict[str, Any]] = [{"stage": st} for st in OPEN_STAGES[1 : reach + 1]]
        if outcome == WON:
            path.append({"stage": WON, "won_reason": self.pick(s.WON_REASONS)})
        elif outcome == LOST:
            path.append({"stage": LOST, "lost_reason": self.pick(s.LOST_REASONS)})
        if path and rng.random() < 0.5:
            path[0]["progress"] = self.pick(s.PROGRESS)
        close = self.past(5, 500) if outcome else self.today + timedelta(days=rng.randint(10, 150))
        name = self.pick(s.OPPORTUNITY_NAMES).format(c=short, p=category)
        f: dict[str, Any] = {
            "name": name[:200], "description": self.pick(s.NEEDS), "customer_need": self.pick(s.NEEDS),
            "expected_close_on": close, "source": c["source"], "owner_id": owner,
            "products": [{"product": i, "quantity": q} for i, q in lines],
        }  # fmt: skip
        if requirements and rng.random() < 0.6:
            f["requirement"] = rng.randrange(requirements)
        opp = DemoOpportunity(f, path)
        if outcome == WON:
            amount = sum((q * self.products[i].unit_price for i, q in lines), Decimal(0))
            opp.contract = self.contract(name, close, amount.quantize(CENT), owner)
        return opp

    def contract(self, name: str, signed: date, amount: Decimal, owner: uuid.UUID) -> DemoContract:
        rng, today = self.rng, self.today
        starts = min(signed + timedelta(days=rng.randint(0, 10)), today)
        ends = starts + timedelta(days=rng.choice((364, 364, 729)))
        f = {"name": f"{name}{' contract' if self.en else '合同'}"[:200], "signed_on": signed,
             "starts_on": starts, "ends_on": ends, "amount": amount, "status": "active",
             "owner_id": owner, "terms": self.pick(s.CONTRACT_TERMS)}  # fmt: skip
        deliveries, first = [], None
        due = starts
        for k in range(rng.randint(1, 3)):
            due = min(due + timedelta(days=rng.randint(15, 60)), ends)
            d: dict[str, Any] = {"due_on": due, "content": self.t(s.DELIVERIES[k])}
            if due <= today - timedelta(days=3):
                done = min(due + timedelta(days=rng.randint(-3, 5)), today)
                first = min(first or done, done)
                r = rng.random()
                d["delivered_on"] = done
                if r < 0.85:
                    d |= {"acceptance_status": "accepted", "accepted_on": min(done + timedelta(days=rng.randint(0, 7)), today),
                          "acceptance_notes": self.pick(s.ACCEPTANCE_NOTES)}  # fmt: skip
                elif r < 0.92:
                    d |= {
                        "acceptance_status": "rejected",
                        "acceptance_notes": self.pick(s.REJECTION_NOTES),
                    }
            deliveries.append(d)
        updates = [{"status": "completed"}] if ends < today else []
        return DemoContract(f, deliveries, updates, first)

    def contract_order(self, contract: int, ct: DemoContract, opp: DemoOpportunity) -> DemoOrder:
        lines = [(ln["product"], ln["quantity"]) for ln in opp.fields["products"]]
        day = min(ct.fields["starts_on"] + timedelta(days=self.rng.randint(0, 20)), self.today)
        return self.order([], contract, lines, day)

    def order(
        self, _: list[int], contract: int | None, lines: list[tuple[int, Decimal]], day: date
    ) -> DemoOrder:
        rng, today = self.rng, self.today
        items, total = [], Decimal(0)
        for i, q in lines:
            price = self.products[i].unit_price
            discount = (
                (q * price * Decimal("0.05")).quantize(CENT) if rng.random() < 0.1 else Decimal(0)
            )
            items.append({"product": i, "quantity": q, "discount": discount})
            total += line_amount(q, price, discount)
        f: dict[str, Any] = {"ordered_on": day, "lines": items}
        if contract is not None:
            f["contract"] = contract
        if rng.random() < 0.2:
            f["notes"] = self.pick(s.ORDER_NOTES)
        age, r = (today - day).days, rng.random()
        if age < 7:
            statuses = [] if r < 0.5 else ["confirmed"]
        elif r < 0.05:
            statuses = ["cancelled"]
        elif age < 30 and r < 0.5:
            statuses = ["confirmed", "shipped"]
        else:
            statuses = ["confirmed", "shipped", "completed"]
        share = {
            "completed": 1.0,
            "shipped": rng.choice((0.3, 1.0)),
            "confirmed": rng.choice((0.0, 0.3)),
        }
        paid = (total * Decimal(str(share.get(statuses[-1] if statuses else "", 0)))).quantize(CENT)
        methods = (
            ("bank_transfer", "card") if self.en else ("bank_transfer", "alipay", "wechat_pay")
        )
        payments: list[dict[str, Any]] = []
        if paid > 0:
            parts = (
                [paid]
                if paid < total or rng.random() < 0.5
                else [(paid * Decimal("0.3")).quantize(CENT)]
            )
            if sum(parts) < paid:
                parts.append(paid - parts[0])
            for k, amount in enumerate(parts):
                payments.append({"paid_on": min(day + timedelta(days=7 + 20 * k), today),
                                 "method": rng.choice(methods), "amount": amount,
                                 "reference": f"TX{rng.getrandbits(40):012X}"})  # fmt: skip
        refunds = []
        if payments and statuses[-1] == "completed" and rng.random() < 0.05:
            last = payments[-1]
            amount = (last["amount"] * Decimal(rng.choice(("0.1", "0.2", "0.3")))).quantize(CENT)
            if amount > 0:
                refunds.append({"payment": len(payments) - 1, "amount": amount,
                                "refunded_on": min(last["paid_on"] + timedelta(days=rng.randint(3, 30)), today),
                                "reason": self.pick(s.REFUND_REASONS)})  # fmt: skip
        return DemoOrder(f, statuses, payments, refunds)

    def flow(
        self, start: datetime, assignee: uuid.UUID, steps: list[str], texts: dict[str, str]
    ) -> list[dict[str, Any]]:
        """Updates that move a ticket or complaint through ``steps`` at plausible times."""
        rng, out, at = self.rng, [], start
        for step in steps:
            if step == "assigned":
                out.append({"status": step, "assignee_id": assignee})
            elif step == "in_progress":
                at += timedelta(hours=rng.randint(1, 30))
                out.append(
                    {
                        "status": step,
                        "assignee_id": assignee,
                        "handled_at": at,
                        "measures": texts["measures"],
                    }
                )
            elif step == "resolved":
                at += timedelta(hours=rng.randint(1, 40))
                out.append(
                    {"status": step, "resolved_at": at, texts["result_field"]: texts["result"]}
                )
            else:
                out.append({"status": step, "satisfaction": rng.choice((3, 4, 4, 5, 5, 5, 2))})
        return out

    def ticket(self, delivered: date, products: list[str]) -> Rec:
        rng = self.rng
        day = min(delivered + timedelta(days=rng.randint(5, 200)), self.today)
        start = self.stamp(day)
        problem, measures, result = rng.choice(s.TICKET_PROBLEMS)
        f = self.with_contact({
            "problem": self.t(problem), "product": rng.choice(products)[:200],
            "expectation": self.pick(s.EXPECTATIONS), "requested_at": start,
            "priority": rng.choice(("low", "normal", "normal", "high", "urgent")),
        })  # fmt: skip
        old = (self.today - day).days >= 4
        flow = ["assigned", "in_progress", "resolved", "closed"]
        steps = flow[: rng.choice((3, 4, 4)) if old else rng.randint(0, 2)]
        texts = {"measures": self.t(measures), "result": self.t(result), "result_field": "result"}
        return Rec(f, self.flow(start, rng.choice(self.staff.service), steps, texts))

    def complaint(self) -> Rec:
        rng = self.rng
        kind, desc, expectation = rng.choice(s.COMPLAINTS)
        day = self.past(0, 365)
        start = self.stamp(day)
        f = self.with_contact({
            "kind": kind, "description": self.t(desc), "customer_expectation": self.t(expectation),
            "severity": rng.choices(("low", "medium", "high", "critical"), (30, 40, 22, 8))[0],
            "received_at": start,
            "product_or_service": self.products[rng.randrange(len(self.products))].category,
        })  # fmt: skip
        assignee = rng.choice(self.staff.service)
        old = (self.today - day).days >= 4
        steps = ["in_progress", "resolved", "closed"][
            : rng.choice((2, 3, 3)) if old else rng.randint(0, 1)
        ]
        if steps or rng.random() < 0.5:
            f["assignee_id"] = assignee
        texts = {"measures": self.pick(s.COMPLAINT_MEASURES),
                 "result": self.pick(s.COMPLAINT_RESOLUTIONS), "result_field": "resolution"}  # fmt: skip
        return Rec(f, self.flow(start, assignee, steps, texts))

    def interaction(self, owner: uuid.UUID) -> Rec:
        rng = self.rng
        day = self.past(0, 540)
        channels = (
            ("email", "phone", "meeting")
            if self.en
            else ("phone", "chat", "chat", "meeting", "visit", "email")
        )
        f = self.with_contact({
            "occurred_at": self.stamp(day), "channel": rng.choice(channels), "staff_user_id": owner,
            "subject": self.pick(s.INTERACTION_SUBJECTS), "content": self.pick(s.INTERACTION_CONTENT),
            "result": self.pick(s.INTERACTION_RESULTS),
        })  # fmt: skip
        if rng.random() < 0.4:
            f["next_contact_on"] = day + timedelta(days=rng.randint(3, 30))
        return Rec(f)

    def follow_up(self, owner: uuid.UUID, in_pool: bool) -> Rec:
        rng, today = self.rng, self.today
        r = 0.45 + rng.random() * 0.55 if in_pool else rng.random()
        f: dict[str, Any] = {"owner_id": owner, "content": self.pick(s.FOLLOW_UPS)}
        if r < 0.15:  # due today
            at = _at(today, time(rng.randint(9, 18), rng.choice((0, 30))))
        elif r < 0.35:  # overdue
            at = self.stamp(self.past(1, 14))
        elif r < 0.6:  # coming
            at = self.stamp(today + timedelta(days=rng.randint(1, 30)))
        else:
            at = self.stamp(self.past(2, 200))
            if r < 0.95:
                done = at + timedelta(hours=rng.randint(0, 3))
                f |= {"status": "done", "done_at": done, "result": self.pick(s.INTERACTION_RESULTS),
                      "customer_feedback": self.pick(s.FOLLOW_UP_FEEDBACK)}  # fmt: skip
                if rng.random() < 0.4:
                    f["next_follow_up_at"] = done + timedelta(days=rng.randint(7, 30))
            else:
                f["status"] = "cancelled"
        f["scheduled_at"] = at
        if rng.random() < 0.7:
            f["remind_at"] = at - rng.choice(
                (timedelta(minutes=30), timedelta(hours=1), timedelta(days=1))
            )
        return Rec(f)

    def visit(
        self, c: dict[str, Any], owner: uuid.UUID, in_pool: bool
    ) -> tuple[Rec | None, Rec | None]:
        rng = self.rng
        day = (
            self.past(1, 300)
            if in_pool or rng.random() < 0.8
            else self.today + timedelta(days=rng.randint(1, 30))
        )
        at = next((a for t in rng.sample(VISIT_TIMES, len(VISIT_TIMES))
                   if blocking_window(c["do_not_visit"], a := _at(day, t), ZONE) is None), _at(day, time(11)))  # fmt: skip
        place = c["address_line"] or " ".join(
            p for p in (c["city"], c["district"], c["street"]) if p
        )
        plan = Rec(self.with_contact({"planned_at": at, "purpose": self.pick(s.VISIT_PURPOSES),
                                      "place": (place or None) and place[:300], "visitor_id": owner}))  # fmt: skip
        if day >= self.today:
            return plan, None
        if rng.random() < 0.1:
            plan.updates.append({"status": "cancelled"})
            return plan, None
        record = Rec({
            "visited_at": at + timedelta(minutes=rng.randint(0, 30)), "visitor_id": owner,
            "outcome": rng.choices("ABCDE", (10, 25, 30, 10, 25))[0],
            "content": self.pick(s.VISIT_CONTENT), "problems_solved": self.pick(s.VISIT_SOLVED),
            "watch_next_time": self.pick(s.VISIT_WATCH),
            "expenses": _money(rng.choice((0, 0, 35.5, 80, 120, 260.8, 500))),
        })  # fmt: skip
        if "contact" in plan.fields:
            record.fields["contact"] = plan.fields["contact"]
        if rng.random() < 0.5:
            record.fields["next_visit_on"] = day + timedelta(days=rng.randint(7, 60))
        return (None, record) if rng.random() < 0.1 else (plan, record)

    def evaluation(self, owner: uuid.UUID, grade: str | None) -> Rec:
        rng = self.rng
        centre = {"A": 85, "B": 75, "C": 62, "D": 50, "E": 38}.get(grade or "", 60)
        picked = sorted(rng.sample(range(len(s.CRITERIA)), rng.randint(3, len(s.CRITERIA))))
        scores = [{"criterion": i, "score": Decimal(max(0, min(100, centre + rng.randint(-15, 15))))}
                  for i in picked]  # fmt: skip
        return Rec({"evaluated_on": self.past(0, 300), "evaluator_id": owner, "scores": scores,
                    "notes": self.pick(s.EVALUATION_NOTES)})  # fmt: skip


def generate_records(
    customers: list[tuple[int, DemoCustomer]],
    *,
    today: date,
    staff: Staff,
    products: list[DemoProduct],
    seed: int = 42,
    profile: Profile = DEMO,
) -> list[DemoRecords]:
    """The records of each ``(index, customer)``; the same inputs give the same records."""
    builder = _Records(seed, today, staff, products, profile)
    return [builder.build(index, customer) for index, customer in customers]
