# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import psycopg2.errors
from markupsafe import Markup

from odoo import api, models

from ..const import CLOSED_WHEN_PAID_REASONS
from ..tools.cron_batch import lock_rows


class InvoiceFollowupCasesMixin(models.AbstractModel):
    """Part of ``account.move`` (which inherits it), in a file of its own: when an invoice's reminders call for a
    person (high-value review, bounced address, too many reminders, repeated partial payments) and the closing
    of cases whose invoices are paid. The customer's own answers are in account_move_followup_answer.py.
    ``self`` is always an invoice."""

    _name = 'invoice.followup.cases.mixin'
    _description = "Invoice: Collection Case Rules"

    # -------------------------------------------------------------------------
    # COLLECTION CASES (what a person must handle)
    # -------------------------------------------------------------------------

    def _followup_needs_review(self, step):
        """Firm and final steps of strategic customers or large amounts go to a person instead."""
        self.ensure_one()
        if step.tone not in ('firm', 'final'):
            return False
        threshold = self.followup_policy_id.high_value_amount
        return self.commercial_partner_id.followup_strategic or (
            threshold and abs(self.amount_residual_signed) >= threshold)

    def _followup_hold_for_review(self, step, cycle_date, today, superseded):
        """Hand the step to a person: a case opens (reminders pause) and the step is logged as handed over."""
        self.ensure_one()
        case = self.env['invoice.followup.case']._followup_open(self, 'high_value', body=self.env._(
            "The step “%(step)s” of invoice %(invoice)s needs a person: strategic customer or large amount.",
            step=step.name, invoice=self.name))
        note = self.env._("Handed to a person (collection case %(case)s).", case=case.display_name)
        self.env['invoice.followup.log']._followup_record([{
            'move_id': self.id, 'step_id': held.id, 'cycle_key': cycle_date, 'date': today, 'state': 'skipped',
            'note': note, 'currency_id': self.currency_id.id, 'amount_due': self.amount_residual,
        } for held in superseded + [step]])

    def _followup_recipient_bounced(self):
        self.ensure_one()
        recipient = self._followup_recipient()
        bounced = self.commercial_partner_id.followup_bounced_email
        return bool(recipient and bounced and recipient.email_normalized == bounced)

    def _followup_check_escalations(self):
        """After reminders: too many reminders, or paying in repeated parts, call for a person."""
        Case = self.env['invoice.followup.case']
        self.line_ids.fetch(['matched_credit_ids'])  # the partial payments of all these invoices, in one query
        for move in self:
            limit = move.followup_policy_id.max_reminders
            sent = move.followup_log_ids.filtered(lambda log: log.state in ('sent', 'scheduled', 'bounced'))
            if limit and len(sent) >= limit:
                Case._followup_open(move, 'max_reminders', body=self.env._(
                    "Invoice %(invoice)s has been reminded %(count)s times without payment.",
                    invoice=move.name, count=len(sent)))
            partials = move._followup_open_term_lines().matched_credit_ids
            if move.payment_state == 'partial' and len(partials) >= 2:
                Case._followup_open(move, 'partial_payments', body=self.env._(
                    "Invoice %(invoice)s was paid in %(count)s partial amounts and is still open.",
                    invoice=move.name, count=len(partials)))

    def _followup_on_customer_reply(self, reply, author, email_from):
        """Someone answered by e-mail the reminder of these invoices (``reply``, the gateway's message): unless
        it is one of us, their reminders pause and a person reads the answer on a case, one open case per customer
        gathering the answers; resolving it resumes the reminders. Anyone else counts: the customer, any contact
        of theirs, an address we do not know. Automatic answers never get here (see mail_thread.py)."""
        moves = self.filtered(lambda move: move.state == 'posted' and not move._followup_is_paid())
        if author and (not author.partner_share or author in moves.company_id.partner_id):
            return self.env['invoice.followup.case']
        Case = self.env['invoice.followup.case'].sudo()
        cases = Case
        for group in moves.grouped(lambda move: (move.commercial_partner_id, move.company_id)).values():
            case = Case._followup_open(group, 'customer_reply')
            intro = self.env._(
                "%(sender)s replied to the reminder of %(invoices)s; its reminders are paused until this case is "
                "resolved:", sender=author.display_name or email_from or self.env._("The customer"),
                invoices=Markup(", ").join(move._get_html_link() for move in group))
            case.message_post(body=Markup("<p>%s</p><blockquote>%s</blockquote>") % (intro, reply.body or ''))
            case._followup_notify_assignee(self.env._("The customer replied to a reminder"))
            cases |= case
        return cases

    @api.model
    def _followup_close_paid_cases(self, companies):
        """Cases whose invoices are all paid (or left the case: promise or plan broken) close themselves, company by
        company, each committed (the cron's first task; a case another transaction holds waits for the next run)."""
        cases = self.env['invoice.followup.case'].sudo().search([
            ('company_id', 'in', companies.ids), ('is_open', '=', True), ('move_ids', '!=', False),
            ('reason', 'in', CLOSED_WHEN_PAID_REASONS),
        ])
        closed = cases.browse()
        for company_cases in cases._followup_settled().grouped('company_id').values():
            try:
                paid = lock_rows(company_cases)
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
                self.env.cr.rollback()  # changed meanwhile: the next run closes them
                continue
            if paid:
                paid.action_resolve()
                for case in paid:
                    case.message_post(body=self.env._("The invoices are paid: case closed."))
                closed |= paid
            self.env['ir.cron']._commit_progress()
        return closed
