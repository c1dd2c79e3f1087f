# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import api, models

from ..tools.cron_batch import lock_rows, run_in_batches, run_isolated
from .invoice_followup_planner import (
    HOLD_BLACKLISTED,
    HOLD_BOUNCE,
    HOLD_GAP,
    HOLD_NO_EMAIL,
    HOLD_NO_PHONE,
    HOLD_REVIEW,
    HOLD_UNAPPLIED,
)

_logger = logging.getLogger(__name__)

LOG_INDEX = 'unique_step_per_cycle'


class InvoiceFollowupQueue(models.AbstractModel):
    """Turns the planner's answer into work: what is due becomes a queued reminder (a log in state ``queued``, under
    the unique key invoice × step × installment, so planning twice queues nothing twice), what is held gets its
    consequence (a pause ends, a case opens, the minimum gap postpones). Delivery workers send the queue
    (``invoice.followup.delivery``)."""

    _name = 'invoice.followup.queue'
    _description = "Invoice Reminder Queue"

    @api.model
    def _queue_due(self, company, day, batch_size, timed_only=False):
        """Plan the company's due invoices and queue their reminders, batch by batch, each committed.

        :param timed_only: only the steps sent at the customer's hour (see ``invoice.followup.planner._plan``)
        :return: False when the cron's time budget is spent
        """
        Move = self.env['account.move'].with_company(company)
        domain = Move._followup_due_domain(company, day)

        def queue_batch(moves):
            """The batch's invoices no other transaction holds, planned and queued in one transaction."""
            def work():
                locked = lock_rows(moves, claim=True)
                if locked:
                    self._plan_and_queue(locked, domain, day, timed_only=timed_only)
                return len(locked)

            def by_invoice(error):  # one bad invoice must not hold the others back: each in its own transaction
                _logger.info("Queueing a batch of reminders failed (%s); invoice by invoice", error)
                for move in moves:
                    self._queue_one(move, domain, day)

            run_isolated(self.env, work, by_invoice, f"Queueing reminders of {len(moves)} invoices",
                         done_index=LOG_INDEX)
            return 0  # the cron's progress counts reminders delivered (invoice.followup.delivery), not planned

        return run_in_batches(Move, domain, batch_size, queue_batch, by_batch=True)

    @api.model
    def _queue_one(self, move, domain, day):
        def work():
            if not lock_rows(move, claim=True):
                return False
            self._plan_and_queue(move, domain, day)
            return True

        def on_failure(error):
            move_now = self.env['account.move'].browse(move.id)
            item = self.env['invoice.followup.planner']._plan(move_now, day)
            step = item[0].step if item else None
            move_now._followup_mark_failed(step, item[0].cycle_date if item else None, day, error)

        done = run_isolated(self.env, work, on_failure, f"Queueing the reminder of invoice {move.id}",
                            done_index=LOG_INDEX)
        self.env['ir.cron']._commit_progress()  # each invoice's outcome kept before the next one is tried
        return done

    @api.model
    def _plan_and_queue(self, locked, domain, day, timed_only=False):
        """Locked invoices: read again (paid or paused meanwhile?), brought up to date for the day (pauses that
        end, promises and plans kept or broken: what the planner foresees), planned and queued."""
        self.env['account.move']._followup_invalidate_invoice_data()
        moves = locked.filtered_domain(domain)
        moves._followup_bring_up_to_date(day)
        return self._apply(self.env['invoice.followup.planner']._plan(
            moves.filtered_domain(domain), day, timed_only=timed_only), day)

    @api.model
    def _apply(self, items, day, reviewed=False):
        """Carry out the planner's answer: queue what goes out, give each hold its consequence.

        :return: the queued reminders (invoice.followup.log)
        """
        Log = self.env['invoice.followup.log']
        log_values = []
        for item in items:
            move = item.move
            if item.hold == HOLD_GAP:
                move.followup_not_before = item.hold_until
            elif item.hold == HOLD_REVIEW:
                move._followup_hold_for_review(item.step, item.cycle_date, day, item.superseded)
            elif item.hold == HOLD_BOUNCE:
                self.env['invoice.followup.case']._followup_open(move, 'bounce', body=self.env._(
                    "Invoice %(invoice)s is not e-mailed: its address bounced.", invoice=move.name))
            elif item.hold == HOLD_UNAPPLIED:
                self.env['invoice.followup.case']._followup_open(move, 'unapplied_payment', body=self.env._(
                    "%(customer)s has payments or credit notes not matched to any invoice that cover what invoice "
                    "%(invoice)s asks (%(amount)s): reconcile them instead of reminding the customer.",
                    customer=move.commercial_partner_id.display_name, invoice=move.name,
                    amount=move.currency_id.format(item.amount)))
            elif item.hold in (HOLD_NO_EMAIL, HOLD_BLACKLISTED):
                move._followup_mark_failed(item.step, item.cycle_date, day, move._followup_recipient_error(item.hold))
            elif item.hold == HOLD_NO_PHONE:
                move._followup_mark_failed(item.step, item.cycle_date, day, move._followup_sms_error())
            if item.hold:
                continue
            base = {'move_id': move.id, 'cycle_key': item.cycle_date, 'date': day, 'amount_due': item.amount,
                    'currency_id': move.currency_id.id}
            log_values += [{
                **base, 'step_id': skipped.id, 'state': 'skipped',
                'note': self.env._("Superseded by the later step “%(step)s”.", step=item.step.name),
            } for skipped in item.superseded]
            log_values.append({**base, 'step_id': item.step.id, 'state': 'queued', 'email_to': item.email or False,
                               'is_test': item.is_test, 'channel': item.channel, 'sms_number': item.phone or False})
            if move.followup_not_before:
                move.followup_not_before = False
        logs = Log._followup_record(log_values) if log_values else Log
        return logs.filtered(lambda log: log.state == 'queued')
