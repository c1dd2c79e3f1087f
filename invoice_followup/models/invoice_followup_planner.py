# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from dataclasses import dataclass, field
from datetime import date as Date
from datetime import datetime, time, timedelta

import pytz

from odoo import api, fields, models
from odoo.tools import format_date

# Why a due step is not sent (``PlanItem.hold``); the preview shows the label, the cron acts on the code.
HOLD_PAUSED = 'paused'
HOLD_EXCEPTION = 'exception'
HOLD_GAP = 'gap'
HOLD_REVIEW = 'review'
HOLD_BOUNCE = 'bounce'
HOLD_NO_EMAIL = 'no_email'
HOLD_BLACKLISTED = 'blacklisted'
HOLD_UNAPPLIED = 'unapplied_payment'
HOLD_HOUR = 'hour'
HOLD_NO_PHONE = 'no_phone'


@dataclass
class PlanItem:
    """What the engine does about one invoice on one day: the step it sends, or why it holds it."""

    move: object
    step: object
    step_date: Date
    cycle_date: Date
    superseded: list = field(default_factory=list)  # earlier steps due the same day, logged as skipped
    amount: float = 0.0
    recipient: object = None  # res.partner the reminder goes to
    email: str = ''  # the address the e-mail goes to (the test address in test mode)
    is_test: bool = False
    hold: str = ''  # empty: the step goes out; else one of the HOLD_* codes
    hold_until: Date = None  # HOLD_GAP: the first day the customer may be reminded again
    send_at: datetime = None  # a step sent at the customer's hour: when, in the customer's time zone
    resumes: bool = False  # a paused invoice resumes today (its pause ended, or a commitment was broken)
    channel: str = ''  # how it goes out: the step's channel, or 'sms' for an e-mail step's SMS fallback
    phone: str = ''  # the number an SMS goes to (sanitized)

    @property
    def sends(self):
        return not self.hold


class InvoiceFollowupPlanner(models.AbstractModel):
    """The one answer to "what would the engine send for these invoices on this day, and why not".

    Read-only: it writes nothing, so the cron, the preview, *Send Now*, the consolidated mode and the benchmark
    ask it the same question and get the same answer. The cron then queues what it says
    (``invoice.followup.queue``) and delivers the queue (``invoice.followup.delivery``).
    """

    _name = 'invoice.followup.planner'
    _description = "Invoice Reminder Planner"

    @api.model
    def _hold_labels(self):
        return {
            HOLD_PAUSED: self.env._("Paused"),
            HOLD_EXCEPTION: self.env._("In exception: a person must fix the cause"),
            HOLD_GAP: self.env._("Minimum gap between two reminders to the customer"),
            HOLD_REVIEW: self.env._("Handed to a person: strategic customer or large amount"),
            HOLD_BOUNCE: self.env._("The customer's address bounced"),
            HOLD_NO_EMAIL: self.env._("No valid e-mail address"),
            HOLD_BLACKLISTED: self.env._("The e-mail address is blacklisted"),
            HOLD_UNAPPLIED: self.env._("The customer's unapplied payments or credit notes cover it: reconcile"),
            HOLD_HOUR: self.env._("Waiting for the customer's hour"),
            HOLD_NO_PHONE: self.env._("No valid mobile or phone number for the SMS"),
        }

    @api.model
    def _plan(self, moves, day, force=False, reviewed=False, timed_only=False):
        """Plan ``day`` for ``moves``, in the order the cron walks them (by id).

        :param force: *Send Now*: the step due, else the next one, whatever its date and the minimum gap
        :param reviewed: a person reviewed the step (a high-value case's *Send Next Reminder*): no review hold
        :param timed_only: only the steps sent at the customer's hour (the hourly delivery job's planning)
        :return: list of PlanItem, one per invoice with a step due (sent or held)
        """
        items = []
        planned_customers = set()  # (customer, company) reminded earlier in this pass: the minimum gap applies
        last_sent = self._last_reminder_dates(moves, day)
        unapplied = self._unapplied_credits(moves)
        for move in moves.sorted('id'):
            item = self._plan_move(move, day, force=force, reviewed=reviewed)
            if not item or (timed_only and not item.step.send_hour):
                continue
            key = (move.commercial_partner_id.id, move.company_id.id)
            credit = unapplied.get((*key, move.currency_id.id), 0.0)
            if item.sends and credit and move.currency_id.compare_amounts(credit, item.amount) >= 0:
                item.hold = HOLD_UNAPPLIED  # what the reminder would ask is already paid, not yet matched
            if item.step.send_hour:
                item.send_at = self._customer_time(move, day, int(item.step.send_hour))
                if item.sends and not force and fields.Datetime.now() < item.send_at.astimezone(pytz.utc).replace(
                        tzinfo=None):
                    item.hold = HOLD_HOUR  # the hourly run sends it once that hour has come
            if item.sends and not force:
                gap_until = self._gap_until(move, day, last_sent.get(key), key in planned_customers)
                if gap_until:
                    item.hold, item.hold_until = HOLD_GAP, gap_until
                elif item.channel in ('email', 'sms'):
                    planned_customers.add(key)
            items.append(item)
        return items

    @api.model
    def _plan_move(self, move, day, force=False, reviewed=False):
        state = move.followup_state
        resumes = False
        if state == 'paused':
            resumes = self._resumes(move, day)
        elif state not in ('active', 'exception'):
            return None
        cycle_date, pending = move._followup_pending_steps()
        due = [(step, step_date) for step, step_date in pending if step_date <= day]
        if not due and force and pending:
            due = pending[:1]
        if not due:
            return None
        (step, step_date), superseded = due[-1], [step for step, _date in due[:-1]]
        item = PlanItem(
            move=move, step=step, step_date=step_date, cycle_date=cycle_date, superseded=superseded,
            amount=move._followup_amount_values(day)['amount'], resumes=resumes, channel=step.channel)
        if state == 'exception':
            item.hold = HOLD_EXCEPTION
        elif state == 'paused' and not resumes:
            item.hold = HOLD_PAUSED
        elif not reviewed and move._followup_needs_review(step):
            item.hold = HOLD_REVIEW
        elif step.channel == 'email':
            self._plan_recipient(item)
        elif step.channel == 'sms':
            self._plan_sms(item)
        return item

    @api.model
    def _resumes(self, move, day):
        """Whether a paused invoice resumes on ``day``: what ``account.move._followup_bring_up_to_date`` will find
        (its pause date has come, the cases still pausing it are those whose promise or plan it keeps)."""
        if move.no_followup or move.payment_state == 'blocked' or move.commercial_partner_id.followup_excluded:
            return False
        if move.followup_paused_until and move.followup_paused_until > day:
            return False
        broken = [case for case, kept in move._followup_commitments(day) if not kept]
        return not move._followup_pausing_cases().filtered(lambda case: case not in broken)

    @api.model
    def _plan_recipient(self, item):
        move = item.move
        company = move.company_id
        test_address = company.followup_test_mode and company.followup_test_email
        recipient = move._followup_recipient()
        item.recipient = recipient
        if test_address:
            item.email, item.is_test = test_address, True
        elif not recipient:
            item.hold = HOLD_NO_EMAIL
        elif recipient.is_blacklisted:
            item.hold = HOLD_BLACKLISTED
        elif move._followup_recipient_bounced():
            item.hold = HOLD_BOUNCE
        else:
            item.email = recipient.email
        if item.hold in (HOLD_NO_EMAIL, HOLD_BOUNCE) and item.step.sms_fallback:
            self._plan_sms(item, fallback=True)

    @api.model
    def _plan_sms(self, item, fallback=False):
        """An SMS step, or an e-mail step's SMS fallback (its e-mail bounced or there is none): the customer's
        number, else the hold ``no_phone`` (a fallback without a number keeps the e-mail's hold: a person fixes the
        address). In test mode the SMS is logged on the invoice, not sent."""
        partner, number = item.move._followup_sms_recipient()
        if fallback and not number:
            return
        item.channel, item.recipient, item.phone = 'sms', partner, number or ''
        item.hold = '' if number else HOLD_NO_PHONE
        item.is_test = bool(item.move.company_id.followup_test_mode and item.move.company_id.followup_test_email)

    @api.model
    def _customer_time(self, move, day, hour):
        """``hour`` o'clock on ``day`` in the customer's time zone (else the company's), as an aware datetime."""
        company = move.company_id
        tz_name = (move.partner_id.tz or move.commercial_partner_id.tz or company.resource_calendar_id.tz
                   or company.partner_id.tz or 'UTC')
        return pytz.timezone(tz_name).localize(datetime.combine(day, time(hour)))

    @api.model
    def _unapplied_credits(self, moves):
        """{(customer id, company id, currency id): the customer's receivable credit not matched to any invoice}:
        payments received and credit notes posted but not reconciled, in the invoices' currency."""
        if not moves:
            return {}
        groups = self.env['account.move.line'].sudo()._read_group(
            [('partner_id', 'in', moves.commercial_partner_id.ids), ('company_id', 'in', moves.company_id.ids),
             ('account_type', '=', 'asset_receivable'), ('parent_state', '=', 'posted'), ('reconciled', '=', False),
             ('amount_residual_currency', '<', 0)],
            ['partner_id', 'company_id', 'currency_id'], ['amount_residual_currency:sum'])
        return {(partner.id, company.id, currency.id): -amount for partner, company, currency, amount in groups}

    @api.model
    def _last_reminder_dates(self, moves, day):
        """{(customer id, company id): date of the last reminder sent, or e-mail or SMS queued, within the gap}."""
        gaps = {company: company.followup_min_gap_days for company in moves.company_id}
        longest = max(gaps.values(), default=0)
        if longest <= 0:
            return {}
        groups = self.env['invoice.followup.log'].sudo()._read_group(
            [('partner_id', 'in', moves.commercial_partner_id.ids), ('company_id', 'in', moves.company_id.ids),
             ('date', '>', day - timedelta(days=longest)), '|', ('state', '=', 'sent'),
             '&', ('state', '=', 'queued'), ('channel', 'in', ('email', 'sms'))],
            ['partner_id', 'company_id'], ['date:max'])
        return {(partner.id, company.id): last for partner, company, last in groups}

    @api.model
    def _gap_until(self, move, day, last_date, planned_earlier):
        """The first day this invoice's customer may be reminded again, when that is after ``day``; else False.

        :param planned_earlier: another invoice of the customer is e-mailed in this pass (consolidated: in the same
            e-mail, so no gap between them)
        """
        company = move.company_id
        gap = company.followup_min_gap_days
        if gap <= 0:
            return False
        if planned_earlier:
            return False if company.followup_consolidate else day + timedelta(days=gap)
        if last_date and last_date + timedelta(days=gap) > day:
            return last_date + timedelta(days=gap)
        return False

    # -------------------------------------------------------------------------
    # THE PREVIEW
    # -------------------------------------------------------------------------

    @api.model
    def _preview_lines(self, company, day):
        """The preview of ``day`` for the company: what the cron sends (and holds, with the reason) that day."""
        Move = self.env['account.move']
        moves = Move.search(Move._followup_due_domain(company, day), order='id')
        labels = self._hold_labels()
        lines = []
        for item in self._plan(moves, day):
            note = labels.get(item.hold, '')
            if item.hold == HOLD_GAP:
                note = self.env._("%(reason)s: not before %(date)s", reason=note,
                                 date=format_date(self.env, item.hold_until))
            elif item.superseded and not item.hold:
                note = self.env._("%(count)s earlier step(s) superseded", count=len(item.superseded))
            lines.append({
                'move_id': item.move.id,
                'partner_id': item.move.commercial_partner_id.id,
                'step_id': item.step.id,
                'step_date': item.step_date,
                'amount_due': item.amount,
                'currency_id': item.move.currency_id.id,
                'recipient': item.email or item.phone or False,
                'channel': item.channel,
                'note': note or False,
                'hold': item.hold or False,
                'send_at': item.send_at and f"{item.send_at:%Y-%m-%d %H:%M} ({item.send_at.tzinfo.zone})",
            })
        return sorted(lines, key=lambda line: (line['partner_id'], line['move_id']))
