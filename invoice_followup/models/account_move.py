# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict
from datetime import timedelta

import psycopg2.errors
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import email_normalize, split_every

from .account_move_followup_answer import PAID_STATES
from .cron_batch import lock_rows, run_in_batches, run_isolated, run_per_company
from .ir_actions_report import PDF_DOCUMENTS_PER_CALL
from .reminder_batch import prepare_batch

_logger = logging.getLogger(__name__)

FOLLOWUP_STATES = [
    ('none', "Not followed"),
    ('active', "Active"),
    ('paused', "Paused"),
    ('exception', "Exception"),
    ('done', "Done"),
]
REMINDABLE_PAYMENT_STATES = ('not_paid', 'partial')
RENDERED_FIELDS = ('subject', 'body_html', 'email_from')
# Who reads an invoice's reminder history, cases and delivery errors: billing users and read-only accountants.
# Others who may open the invoice (salesmen, project users, portal users) do not see them.
FOLLOWUP_READERS = 'account.group_account_invoice,account.group_account_readonly'
# What may change under a running cron and decides whether an invoice is reminded: re-read after its lock
# (model: its fields, None for all of them). Of the customer, what decides whether and where a reminder goes.
FRESH_AFTER_LOCK = {
    'account.move': None, 'account.move.line': None, 'account.partial.reconcile': None,
    'invoice.followup.log': None, 'invoice.followup.case': None, 'mail.activity': None,
    'res.partner': ['email', 'email_normalized', 'is_blacklisted', 'message_bounce', 'followup_bounced_email',
                    'followup_excluded', 'followup_strategic'],
}


class FollowupSendError(UserError):
    """A reminder could not go out for a reason a person must fix (no address, template error...)."""


class FollowupNoAddressError(FollowupSendError):
    """The customer has no usable e-mail address."""


class AccountMove(models.Model):
    _name = 'account.move'
    _inherit = ['account.move', 'invoice.followup.answer.mixin']

    followup_policy_id = fields.Many2one(
        'invoice.followup.policy',
        string="Follow-up Policy",
        compute='_compute_followup_policy_id',
        store=True,
        readonly=False,
        copy=False,
        index='btree_not_null',
        check_company=True,
        tracking=True,
        help="Reminder policy of this invoice. By default the customer's, else the company's default policy.",
    )
    followup_policy_manual = fields.Boolean(copy=False, export_string_translation=False)
    followup_state = fields.Selection(
        FOLLOWUP_STATES,
        string="Follow-up Status",
        compute='_compute_followup_state',
        store=True,
        index=True,
        copy=False,
    )
    followup_next_date = fields.Date(
        string="Next Reminder",
        compute='_compute_followup_next',
        store=True,
        index='btree_not_null',  # only invoices under follow-up have one: a small index, one range scan
        copy=False,
        help="When the next reminder step of this invoice is due.",
    )
    followup_next_step_id = fields.Many2one(
        'invoice.followup.step',
        string="Next Step",
        compute='_compute_followup_next',
        store=True,
        copy=False,
    )
    followup_cycle_date = fields.Date(
        string="Reminded Installment Due Date",
        compute='_compute_followup_next',
        store=True,
        copy=False,
        export_string_translation=False,
    )
    followup_log_ids = fields.One2many(
        'invoice.followup.log', 'move_id', string="Reminders", copy=False, groups=FOLLOWUP_READERS)
    followup_log_count = fields.Integer(
        compute='_compute_followup_log_count', groups=FOLLOWUP_READERS, export_string_translation=False)
    followup_last_step_id = fields.Many2one(
        'invoice.followup.step',
        string="Last Reminder",
        compute='_compute_followup_last_step_id',
        store=True,
        copy=False,
    )
    followup_case_ids = fields.Many2many(
        'invoice.followup.case', 'invoice_followup_case_move_rel', 'move_id', 'case_id', string="Collection Cases",
        copy=False, groups=FOLLOWUP_READERS)
    followup_case_count = fields.Integer(
        compute='_compute_followup_case_count', groups=FOLLOWUP_READERS, export_string_translation=False)
    # What the customer said about this invoice, and its installments (account_move_followup_answer.py).
    followup_answer_ids = fields.One2many(
        'invoice.followup.case.answer', 'move_id', string="Customer Answers", copy=False, groups=FOLLOWUP_READERS)
    followup_plan_line_ids = fields.One2many(
        'invoice.followup.case.plan.line', 'move_id', string="Payment Plan Installments", copy=False,
        groups=FOLLOWUP_READERS)
    followup_paused_until = fields.Date(string="Reminders Paused Until", copy=False, tracking=True)
    followup_not_before = fields.Date(copy=False, export_string_translation=False)
    # SMTP replies and template errors: internal text, for accountants only.
    followup_error = fields.Text(string="Follow-up Error", copy=False, readonly=True, groups=FOLLOWUP_READERS)

    # Values the reminder templates show; computed for "today" in the company's timezone.
    followup_amount_due = fields.Monetary(
        string="Amount Due Now", compute='_compute_followup_amounts', currency_field='currency_id')
    followup_due_date = fields.Date(string="Due On", compute='_compute_followup_amounts')
    followup_days_overdue = fields.Integer(string="Days Overdue", compute='_compute_followup_amounts')
    followup_is_installment = fields.Boolean(compute='_compute_followup_amounts', export_string_translation=False)
    followup_amount_due_company = fields.Monetary(
        string="Amount Due Now (Company Currency)",
        compute='_compute_followup_amounts',
        currency_field='company_currency_id',
    )
    followup_amount_due_words = fields.Char(compute='_compute_followup_amounts', export_string_translation=False)
    followup_payment_url = fields.Char(compute='_compute_followup_urls', export_string_translation=False)
    # The customer's self-service link (answers in the customer's name): for the reminders and accountants only.
    followup_portal_url = fields.Char(
        compute='_compute_followup_urls', groups=FOLLOWUP_READERS, export_string_translation=False)
    # Who reminders come from: invoices issued by crons and scripts have OdooBot, or nobody, as salesperson.
    followup_salesperson_id = fields.Many2one(
        'res.users', compute='_compute_followup_sender', compute_sudo=True, export_string_translation=False,
        help="The salesperson when a person (not OdooBot): reminders carry their signature.")
    followup_email_from = fields.Char(
        compute='_compute_followup_sender', compute_sudo=True, export_string_translation=False,
        help="The address reminders come from: the salesperson's, else the company's, else its collections "
        "responsible's.")

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends('move_type', 'partner_id', 'company_id')
    def _compute_followup_policy_id(self):
        for move in self:
            if move.followup_policy_manual and move.followup_policy_id:
                continue
            move.followup_policy_id = move._followup_default_policy()

    @api.depends(
        'move_type', 'state', 'payment_state', 'amount_residual', 'followup_policy_id', 'followup_paused_until',
        'followup_error', 'line_ids.no_followup', 'commercial_partner_id.followup_excluded',
        'company_id.followup_min_amount', 'followup_policy_id.min_amount',
        'followup_case_ids.is_open', 'followup_case_ids.reason', 'followup_answer_ids.is_closed',
    )
    def _compute_followup_state(self):
        for move in self:
            move.followup_state = move._followup_state_now()

    @api.depends(
        'followup_state', 'followup_paused_until', 'followup_not_before', 'invoice_date',
        'line_ids.date_maturity', 'line_ids.reconciled',
        'followup_log_ids.state', 'followup_log_ids.step_id', 'followup_log_ids.cycle_key',
        'followup_policy_id.step_ids.offset_days', 'followup_policy_id.step_ids.date_reference',
        'followup_policy_id.step_ids.sequence', 'company_id.followup_business_days',
        'followup_case_ids.is_open', 'followup_answer_ids.promise_date', 'followup_answer_ids.plan_state',
        'followup_answer_ids.is_closed', 'followup_plan_line_ids.date', 'followup_plan_line_ids.is_checked',
    )
    def _compute_followup_next(self):
        for move in self:
            next_date = next_step = cycle_date = False
            if move.followup_state == 'paused':
                next_date = move._followup_resume_date()
            elif move.followup_state == 'active':
                cycle_date, pending = move._followup_pending_steps()
                if pending:
                    next_step, next_date = pending[0]
                    if move.followup_not_before:
                        next_date = max(next_date, move.followup_not_before)
            move.followup_next_date = next_date
            move.followup_next_step_id = next_step
            move.followup_cycle_date = cycle_date

    @api.depends('followup_log_ids.state', 'followup_log_ids.step_id')
    def _compute_followup_last_step_id(self):
        for move in self:
            logs = move.followup_log_ids.filtered(lambda log: log.state in ('sent', 'scheduled', 'bounced'))
            move.followup_last_step_id = logs.sorted(lambda log: (log.date, log.id))[-1:].step_id

    def _compute_followup_case_count(self):
        for move in self:
            move.followup_case_count = len(move.followup_case_ids.filtered('is_open'))

    def _compute_followup_log_count(self):
        counts = dict(self.env['invoice.followup.log']._read_group(
            [('move_id', 'in', self.ids), ('state', '!=', 'cancel')], ['move_id'], ['__count'],
        ))
        for move in self:
            move.followup_log_count = counts.get(move, 0)

    @api.depends_context('lang')
    @api.depends('amount_residual', 'line_ids.amount_residual_currency', 'line_ids.date_maturity', 'currency_id')
    def _compute_followup_amounts(self):
        for move in self:
            values = move._followup_amount_values()
            move.followup_amount_due = values['amount']
            move.followup_due_date = values['due_date']
            move.followup_days_overdue = values['days_overdue']
            move.followup_is_installment = values['is_installment']
            move.followup_amount_due_company = values['amount_company']
            move.followup_amount_due_words = values['amount_words']

    @api.depends('invoice_user_id', 'company_id')
    def _compute_followup_sender(self):
        for move in self:
            person = move.invoice_user_id if move.invoice_user_id and move.invoice_user_id._followup_is_person() else (
                self.env['res.users'])
            move.followup_salesperson_id = person
            company = move.company_id
            move.followup_email_from = (person.email and person.email_formatted) or (
                company.email and company.email_formatted) or (
                company and company._followup_responsible().email_formatted) or False

    def _compute_followup_urls(self):
        for move in self:
            if move.state != 'posted' or not move.is_sale_document():
                move.followup_payment_url = move.followup_portal_url = False
                continue
            token = move._followup_respond_token()
            move.followup_portal_url = f"{move.get_base_url()}/invoice_followup/respond/{token}"
            move.followup_payment_url = move._followup_payment_link(move.followup_amount_due)

    # -------------------------------------------------------------------------
    # CRUD
    # -------------------------------------------------------------------------

    def write(self, vals):
        if 'followup_policy_id' in vals and not self.env.context.get('invoice_followup_propagate'):
            vals = {**vals, 'followup_policy_manual': bool(vals['followup_policy_id'])}
            if not vals['followup_policy_id']:
                # Emptying the override falls back to the customer's or company's policy.
                res = super().write(vals)
                self.env.add_to_compute(self._fields['followup_policy_id'], self)
                return res
        return super().write(vals)

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_followup_pause(self):
        return {
            'type': 'ir.actions.act_window',
            'name': self.env._("Pause Reminders"),
            'res_model': 'account.move.followup.pause',
            'view_mode': 'form',
            'target': 'new',
            'context': {'active_model': 'account.move', 'active_ids': self.ids},
        }

    def action_followup_resume(self):
        """Resume the cadence. Steps that fell due meanwhile collapse into the latest one: no burst."""
        self.check_access('write')
        self.write({'followup_paused_until': False, 'followup_error': False, 'followup_not_before': False})
        self.no_followup = False
        self.env['invoice.followup.case']._followup_resolve(self, ('failure', 'no_email'))
        for move in self:
            move.message_post(body=self.env._("Reminders resumed."))
        return True

    def action_followup_exclude(self):
        self.check_access('write')
        self.no_followup = True
        for move in self:
            move.message_post(body=self.env._("Excluded from automatic reminders."))
        return True

    def action_followup_send_now(self):
        """Send the next reminder step right away, whatever its date."""
        self.check_access('write')
        sent = self.env['invoice.followup.log']
        for move in self:
            if move.followup_state in ('none', 'done'):
                raise UserError(self.env._(
                    "Invoice %(invoice)s has nothing to remind: it is paid, not posted or has no follow-up policy.",
                    invoice=move.display_name))
            if move.followup_state != 'active':
                raise UserError(self.env._(
                    "Reminders of invoice %(invoice)s are paused or in exception: resume them first.",
                    invoice=move.display_name))
            today = move.company_id._followup_today()
            cycle_date, pending = move._followup_pending_steps()
            if not pending:
                raise UserError(self.env._(
                    "Invoice %(invoice)s has received every step of its policy.", invoice=move.display_name))
            # The step due now (the latest of those already due, like the cron), else the next one to come.
            due = [step for step, date in pending if date <= today] or [pending[0][0]]
            sent |= move.sudo()._followup_run_step(due[-1], cycle_date, today, superseded=due[:-1])
        self.env['invoice.followup.log']._followup_trigger_mail_queue()
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._("%(count)s reminder(s) sent.", count=len(sent)),
                'next': {'type': 'ir.actions.act_window_close'},
            },
        }

    def action_view_followup_cases(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_case_action')
        action['domain'] = [('move_ids', 'in', self.ids)]
        action['context'] = {'search_default_open': 1, 'default_partner_id': self.commercial_partner_id.id}
        return action

    def action_view_followup_logs(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('invoice_followup.invoice_followup_log_action')
        action['domain'] = [('move_id', '=', self.id)]
        action['context'] = {'default_move_id': self.id}
        return action

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: cadence
    # -------------------------------------------------------------------------

    def _followup_default_policy(self):
        self.ensure_one()
        if self.move_type != 'out_invoice':
            return self.env['invoice.followup.policy']
        partner = self.commercial_partner_id.with_company(self.company_id)
        return partner.followup_policy_id or self.company_id.followup_policy_id

    @api.model
    def _followup_propagate_policy(self, domain):
        """A customer's or company's policy changed: open invoices that follow it (no override) follow suit."""
        moves = self.sudo().search(
            Domain(domain) & Domain('move_type', '=', 'out_invoice') & Domain('followup_policy_manual', '=', False)
            & Domain('state', 'in', ('draft', 'posted')) & Domain('payment_state', 'in', ('not_paid', 'partial')))
        for policy, group in moves.grouped(lambda move: move._followup_default_policy()).items():
            group.filtered(lambda move, policy=policy: move.followup_policy_id != policy).with_context(
                invoice_followup_propagate=True).followup_policy_id = policy

    def _followup_min_amount(self):
        self.ensure_one()
        return self.followup_policy_id.min_amount or self.company_id.followup_min_amount

    def _followup_state_now(self):
        """The follow-up status the invoice has, from its accounting state and manual controls."""
        self.ensure_one()
        if self.move_type != 'out_invoice' or self.state != 'posted' or not self.followup_policy_id:
            return 'none'
        if self.payment_state in PAID_STATES or self.currency_id.is_zero(self.amount_residual):
            return 'done'
        if self.payment_state not in REMINDABLE_PAYMENT_STATES + ('blocked',):
            return 'none'
        if abs(self.amount_residual_signed) <= self._followup_min_amount():
            return 'done'
        if self.followup_error:
            return 'exception'
        if self._followup_pausing_cases():
            return 'paused'
        if (self.followup_paused_until or self.payment_state == 'blocked' or self.no_followup
                or self.commercial_partner_id.followup_excluded):
            return 'paused'
        return 'active'

    def _followup_open_term_lines(self):
        self.ensure_one()
        return self.line_ids.filtered(lambda line: line.display_type == 'payment_term')

    def _followup_cycle(self):
        """Due date of the earliest installment still open, and whether it is the first installment."""
        term_lines = self._followup_open_term_lines()
        open_dates = sorted(line.date_maturity or line.date for line in term_lines if not line.reconciled)
        if not open_dates:
            return False, False
        all_dates = sorted(line.date_maturity or line.date for line in term_lines)
        return open_dates[0], open_dates[0] == all_dates[0]

    def _followup_pending_steps(self):
        """Steps of the current installment cycle that are still to come, in order.

        :return: (cycle date, [(step, date it is due)]) where the date is already moved to a working day.
                 Steps placed before the last step done in this cycle are dropped, so that adding a step
                 to a policy never sends an earlier tone after a later one.
        """
        self.ensure_one()
        cycle_date, first_cycle = self._followup_cycle()
        if not cycle_date:
            return False, []
        done_steps = self.followup_log_ids.filtered(
            lambda log: log.state not in ('cancel', 'failed') and log.cycle_key == cycle_date).step_id
        targets = []
        last_done = False
        for step in self.followup_policy_id.step_ids:
            if step.date_reference == 'invoice' and not first_cycle:
                continue
            target = step._target_date(self.invoice_date, cycle_date)
            if not target:
                continue
            if step in done_steps:
                last_done = max(last_done, target) if last_done else target
            else:
                targets.append((step, target))
        shifted = self.company_id._followup_shift_to_working_day(target for _step, target in targets)
        pending = sorted(
            ((step, shifted[target]) for step, target in targets if not last_done or target > last_done),
            key=lambda item: (item[1], item[0].sequence, item[0].id),
        )
        return cycle_date, pending

    def _followup_amount_values(self, today=None):
        """What the reminder asks for: the overdue installments, else the next one, else the residual."""
        self.ensure_one()
        currency = self.currency_id
        values = {
            'amount': self.amount_residual, 'due_date': self.invoice_date_due, 'days_overdue': 0,
            'is_installment': False, 'amount_company': 0.0, 'amount_words': '',
        }
        if not currency or not self.company_id:
            return values  # a form still being filled in: nothing to ask for yet
        today = today or self.company_id._followup_today()
        open_lines = self._followup_open_term_lines().filtered(lambda line: not line.reconciled)
        if self.state == 'posted' and len(self._followup_open_term_lines()) > 1 and open_lines:
            sign = -self.direction_sign
            overdue = open_lines.filtered(lambda line: (line.date_maturity or line.date) <= today)
            asked = overdue or open_lines.sorted(lambda line: line.date_maturity or line.date)[:1]
            values.update(
                amount=sum(sign * line.amount_residual_currency for line in asked),
                due_date=min(line.date_maturity or line.date for line in asked),
                is_installment=not currency.is_zero(self.amount_residual - sum(
                    sign * line.amount_residual_currency for line in asked)),
            )
        elif open_lines:
            values['due_date'] = min(line.date_maturity or line.date for line in open_lines)
        if values['due_date']:
            values['days_overdue'] = max((today - values['due_date']).days, 0)
        company = self.company_id
        values['amount_company'] = values['amount']
        if currency != company.currency_id:
            values['amount_company'] = currency._convert(values['amount'], company.currency_id, company, today)
        values['amount_words'] = currency.with_context(lang=self.partner_id.lang or self.env.lang).amount_to_text(
            values['amount'])
        return values

    def _followup_payment_link(self, amount):
        """Account_payment's one-click portal payment link for this amount (empty when nothing is due)."""
        self.ensure_one()
        if self.currency_id.compare_amounts(amount, 0) <= 0:
            return False
        wizard = self.env['payment.link.wizard'].sudo().new({
            'res_model': self._name,
            'res_id': self.id,
            'amount': amount,
            'amount_max': self.amount_residual,
            'currency_id': self.currency_id.id,
            'partner_id': self.partner_id.id,
        })
        return wizard.link

    def _followup_recipient(self):
        """The partner who receives the reminder: the invoice address if it has an e-mail, else the customer."""
        self.ensure_one()
        for partner in (self.partner_id, self.commercial_partner_id):
            if email_normalize(partner.email or ''):
                return partner
        return self.env['res.partner']

    def _followup_ensure_pdfs(self):
        """Return {move: attachment} with each invoice's PDF, rendering only the missing ones, in one batch."""
        missing = self.filtered(lambda move: not move.invoice_pdf_report_id)
        if missing:
            sender = self.env['account.move.send'].with_context(followup_invoice_pdf=True)  # see ir_actions_report
            invoices_data = {
                move: {'pdf_report': sender._get_default_pdf_report_id(move)} for move in missing
            }
            for company, moves in missing.grouped('company_id').items():
                for chunk in split_every(PDF_DOCUMENTS_PER_CALL, moves):
                    batch = {move: invoices_data[move] for move in chunk}
                    sender.with_company(company)._prepare_invoice_pdf_report(batch)
                    sender._link_invoice_documents(batch)
        return {move: move.invoice_pdf_report_id for move in self}

    def _followup_run_step(self, step, cycle_date, today, superseded=None, pdf=None, message=None, is_test=False,
                           prerendered=None):
        """Carry out one step on this invoice and log it (and the steps it supersedes) in the same transaction.

        :param prerendered: the e-mail as rendered with its batch (see ``_followup_prerender``), if any

        :raise FollowupSendError: when the reminder cannot go out; nothing is written then.
        """
        self.ensure_one()
        Log = self.env['invoice.followup.log']
        amounts = self._followup_amount_values(today)
        base_vals = {
            'move_id': self.id, 'cycle_key': cycle_date, 'date': today,
            'amount_due': amounts['amount'], 'currency_id': self.currency_id.id,
        }
        if superseded:
            Log._followup_record([{
                **base_vals, 'step_id': skipped.id, 'state': 'skipped',
                'note': self.env._("Superseded by the later step “%(step)s”.", step=step.name),
            } for skipped in superseded])
        if message:  # already sent, consolidated with other invoices
            vals = {'state': 'sent', 'mail_message_id': message.id, 'message_id': message.message_id,
                    'is_test': is_test}
        elif step.channel == 'activity':
            vals = self._followup_schedule_activity(step, today, amounts)
        else:
            vals = self._followup_send_email(step, pdf=pdf, prerendered=prerendered)
        log = Log._followup_record({**base_vals, 'step_id': step.id, **vals})
        if self.followup_not_before:
            self.followup_not_before = False
        self._followup_check_escalations()
        return log

    def _followup_schedule_activity(self, step, today, amounts):
        collector = step.policy_id.collector_id  # else the salesperson, else the company's: never OdooBot
        user = collector if collector and collector._followup_is_person() else (
            self.followup_salesperson_id or self.company_id._followup_responsible())
        activity = self.activity_schedule(
            activity_type_id=step.activity_type_id.id,
            date_deadline=today,
            summary=self.env._(
                "%(step)s: %(amount)s due", step=step.name, amount=self.currency_id.format(amounts['amount'])),
            note=step.activity_note,
            user_id=user.id,
        )
        return {'state': 'scheduled', 'activity_id': activity.id}

    def _followup_send_email(self, step, pdf=None, prerendered=None):
        """Post the step's template on the chatter as an e-mail to the customer (queued, sent after commit)."""
        self.ensure_one()
        recipient, test_address = self._followup_check_recipient()
        template = step.mail_template_id
        if prerendered and prerendered[0] == template and prerendered[1] == self._followup_render_key():
            rendered = prerendered[2]
        else:
            rendered = self._followup_render(template, self)
        if pdf is None:
            pdf = self._followup_ensure_pdfs()[self]
        message = self._followup_post_reminder(self, recipient, test_address, rendered, pdf)
        return {'state': 'sent', 'mail_message_id': message.id, 'message_id': message.message_id,
                'is_test': bool(test_address)}

    def _followup_check_recipient(self):
        """Who gets this invoice's reminder, and the test-mode address that replaces them, if any.

        :raise FollowupSendError: no usable address
        """
        self.ensure_one()
        company = self.company_id
        test_address = company.followup_test_mode and company.followup_test_email
        recipient = self._followup_recipient()
        if not recipient and not test_address:
            raise FollowupNoAddressError(self.env._(
                "%(partner)s has no valid e-mail address.", partner=self.partner_id.display_name))
        if recipient and not test_address and recipient.is_blacklisted:
            raise FollowupSendError(self.env._(
                "The e-mail address %(email)s is blacklisted (it bounced or unsubscribed).", email=recipient.email))
        return recipient, test_address

    def _followup_render_key(self):
        """What an e-mail rendered earlier must still match to be sent as it is: the invoice unchanged, unpaid."""
        self.ensure_one()
        return self.write_date, self.amount_residual, self.payment_state

    @api.model
    def _followup_prerender(self, moves):
        """Render the e-mails of a batch, one call per e-mail template for all the invoices it is due on: their
        customers, currencies and lines are then read together instead of invoice by invoice.

        Rendered before the invoices are locked: each is used only if its invoice is unchanged when its turn
        comes (``_followup_render_key``), else the e-mail is rendered again.
        :return: {invoice id: (template, render key, rendered values)}
        """
        self.env.flush_all()  # the render keys are what the database holds
        by_template = defaultdict(list)
        # Not those another worker held while the batch was prepared: rendering would give them their portal token.
        for move in moves.filtered(lambda move: move.access_token and not move.company_id.followup_consolidate):
            today = move.company_id._followup_today()
            due = [step for step, date in move._followup_pending_steps()[1] if date <= today]
            if due and due[-1].channel == 'email':  # the step _followup_plan carries out: the latest one due
                by_template[due[-1].mail_template_id].append(move.id)
        prerendered = {}
        for template, move_ids in by_template.items():
            try:
                values = template._generate_template(move_ids, RENDERED_FIELDS)
            except Exception:  # noqa: BLE001 - each invoice renders its own then, and a broken one fails alone
                _logger.info("Batch rendering of %s failed; rendering invoice by invoice", template.name,
                             exc_info=True)
                continue
            authors = {}
            for move in self.browse(move_ids):
                rendered = values[move.id]
                if email_from := rendered.get('email_from'):
                    if email_from not in authors:  # the partner message_post would look up, once per sender
                        authors[email_from] = move._message_compute_author(None, email_from)[0]
                    rendered['author_id'] = authors[email_from]
                prerendered[move.id] = (template, move._followup_render_key(), rendered)
        return prerendered

    @api.model
    def _followup_render(self, template, record):
        """Subject, body and sender of ``template`` for ``record``, in the recipient's language."""
        try:
            return template._generate_template(record.ids, RENDERED_FIELDS)[record.id]
        except Exception as error:  # noqa: BLE001 - any rendering error must be shown to a person
            raise FollowupSendError(self.env._(
                "The template “%(template)s” could not be rendered: %(error)s", template=template.name, error=error,
            )) from error

    @api.model
    def _followup_post_reminder(self, thread, recipient, test_address, rendered, attachments):
        """Post a rendered reminder on ``thread``'s chatter and queue its e-mail (to the test address in test mode).

        The message is posted, not sent: the mail queue sends it after commit, so a rollback sends nothing.
        """
        post_values = {
            'body': rendered.get('body_html') or '',
            'subject': rendered.get('subject') or thread.display_name,
            'attachment_ids': attachments.ids,
            'mail_auto_delete': False,
            'email_layout_xmlid': 'mail.mail_notification_layout_with_responsible_signature',
        }
        if rendered.get('email_from'):
            post_values['email_from'] = rendered['email_from']
        if 'author_id' in rendered:
            post_values['author_id'] = rendered['author_id']
        # Application code posting the invoice's own PDF: not a document to import into the invoice.
        thread = thread.with_context(
            mail_notify_force_send=False, email_notification_allow_footer=True, disable_attachment_import=True)
        if not test_address:
            return thread.message_post(
                message_type='comment', subtype_xmlid='mail.mt_comment', partner_ids=recipient.ids, **post_values)
        message = thread.message_post(message_type='comment', subtype_xmlid='mail.mt_note', **post_values)
        self.env['mail.mail'].sudo().create({
            'mail_message_id': message.id,
            'email_to': test_address,
            'body_html': post_values['body'],
            'auto_delete': False,
            'attachment_ids': [Command.set(attachments.ids)],
        })
        return message

    @api.model
    def _followup_run_consolidated(self, plans, today):
        """One e-mail for several invoices of a customer due the same day, with every invoice's PDF: posted on the
        oldest invoice (never on the customer's record, which every internal user of every company reads), each
        invoice logging its own step and the others noting where that e-mail is.

        :param plans: {invoice: (step, cycle date, superseded steps)}, all e-mail steps of one customer
        """
        moves = self.browse([move.id for move in plans]).sorted(lambda move: (move.invoice_date_due, move.id))
        first = moves[0]
        recipient, test_address = first._followup_check_recipient()
        partner = first.commercial_partner_id.with_context(invoice_followup_move_ids=moves.ids)
        template = self.env.ref('invoice_followup.mail_template_followup_consolidated').with_context(
            invoice_followup_move_ids=moves.ids)
        rendered = self._followup_render(template, partner)
        pdfs = moves._followup_ensure_pdfs()
        attachments = self.env['ir.attachment'].union(*pdfs.values())
        # No header: its button and title would present the e-mail as being about the oldest invoice only.
        message = self._followup_post_reminder(
            first.with_context(email_notification_allow_header=False), recipient, test_address, rendered, attachments)
        logs = self.env['invoice.followup.log']
        for move in moves:
            step, cycle_date, superseded = plans[move]
            logs |= move._followup_run_step(step, cycle_date, today, superseded=superseded, message=message,
                                            is_test=bool(test_address))
            if move != first:
                move.message_post(body=self.env._(
                    "Reminder “%(step)s” sent to %(partner)s in one e-mail with their other invoices due today: "
                    "see %(invoice)s.", step=step.name, partner=partner.display_name, invoice=first._get_html_link()))
        return logs

    def _followup_mark_failed(self, step, cycle_date, today, error):
        """Record a failed step and put the invoice in exception, out of the cron's way until a person acts."""
        self.ensure_one()
        message = str(error.args[0]) if isinstance(error, UserError) and error.args else str(error)
        if step:
            self.env['invoice.followup.log']._followup_record({
                'move_id': self.id, 'step_id': step.id, 'cycle_key': cycle_date, 'date': today,
                'state': 'failed', 'note': message[:250], 'currency_id': self.currency_id.id,
                'amount_due': self.amount_residual,
            })
        self.followup_error = message
        # The reason (an SMTP reply, a template error) stays on the invoice's error field and the case, which only
        # accountants read: the chatter is read by every internal user who may open the invoice.
        self.message_post(body=self.env._(
            "Automatic reminder failed: reminders are stopped until the cause shown on the invoice is fixed."))
        reason = 'no_email' if isinstance(error, FollowupNoAddressError) else 'failure'
        self.env['invoice.followup.case']._followup_open(self, reason, body=message)

    def _followup_plan(self, today):
        """Bring this (locked, fresh) invoice's cadence up to date for today and say which step is due.

        Ends a pause whose date has come; postpones under the minimum gap between two reminders to a customer.
        When several steps are due (first run on an old invoice, end of a pause) only the latest is carried
        out and the earlier ones are superseded: one reminder, never a burst.

        :return: (step, cycle date, superseded steps) or None when nothing is due today
        """
        self.ensure_one()
        if self.followup_state == 'paused':
            self._followup_check_commitments(today)
            if self.followup_paused_until and self.followup_paused_until <= today:
                self.followup_paused_until = False
                self.message_post(body=self.env._("Reminder pause ended."))
        if self.followup_state != 'active':
            return None
        cycle_date, pending = self._followup_pending_steps()
        due = [step for step, date in pending if date <= today]
        if not due:
            return None
        gap_until = self._followup_gap_until(today)
        if gap_until and gap_until > today:
            self.followup_not_before = gap_until
            return None
        step, superseded = due[-1], due[:-1]
        if self._followup_needs_review(step):
            self._followup_hold_for_review(step, cycle_date, today, superseded)
            return None
        if step.channel == 'email' and self._followup_recipient_bounced():
            self.env['invoice.followup.case']._followup_open(self, 'bounce', body=self.env._(
                "Invoice %(invoice)s is not e-mailed: its address bounced.", invoice=self.name))
            return None
        return step, cycle_date, superseded

    def _followup_process(self, today, pdf=None):
        """Plan and carry out today's step of this invoice. Return its log (empty when nothing was due)."""
        plan = self._followup_plan(today)
        if not plan:
            return self.env['invoice.followup.log']
        step, cycle_date, superseded = plan
        return self._followup_run_step(step, cycle_date, today, superseded=superseded, pdf=pdf)

    def _followup_gap_until(self, today):
        """Date before which this customer may not be reminded again (minimum gap setting), or False."""
        gap = self.company_id.followup_min_gap_days
        if gap <= 0:
            return False
        last = self.env['invoice.followup.log']._read_group(
            [('partner_id', '=', self.commercial_partner_id.id), ('state', '=', 'sent'),
             ('company_id', '=', self.company_id.id), ('date', '>', today - timedelta(days=gap))],
            [], ['date:max'],
        )[0][0]
        return last and last + timedelta(days=gap)

    @api.model
    def _followup_preview(self, company, date):
        """What the cron would carry out on ``date`` for the company, with no side effect.

        :return: list of values for preview lines
        """
        moves = self.search(self._followup_due_domain(company, date), order='commercial_partner_id, id')
        lines = []
        for move in moves:
            pause_ends = move.followup_paused_until and move.followup_paused_until <= date
            if move.followup_state == 'paused' and not pause_ends:
                continue
            if move.no_followup or move.payment_state == 'blocked' or move.commercial_partner_id.followup_excluded:
                continue
            _cycle_date, pending = move._followup_pending_steps()
            due = [(step, step_date) for step, step_date in pending if step_date <= date]
            if not due:
                continue
            step, step_date = due[-1]
            recipient = move._followup_recipient()
            note = False
            if step.channel == 'email' and not recipient:
                note = self.env._("No valid e-mail address")
            elif len(due) > 1:
                note = self.env._("%(count)s earlier step(s) superseded", count=len(due) - 1)
            test_address = company.followup_test_mode and company.followup_test_email
            lines.append({
                'move_id': move.id,
                'partner_id': move.commercial_partner_id.id,
                'step_id': step.id,
                'step_date': step_date,
                'amount_due': move._followup_amount_values(date)['amount'],
                'currency_id': move.currency_id.id,
                'recipient': test_address or recipient.email if step.channel == 'email' else False,
                'note': note,
            })
        return lines

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: collection cases (what a person must handle)
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
        """After a reminder: too many reminders, or paying in repeated parts, call for a person."""
        self.ensure_one()
        Case = self.env['invoice.followup.case']
        limit = self.followup_policy_id.max_reminders
        sent = self.followup_log_ids.filtered(lambda log: log.state in ('sent', 'scheduled', 'bounced'))
        if limit and len(sent) >= limit:
            Case._followup_open(self, 'max_reminders', body=self.env._(
                "Invoice %(invoice)s has been reminded %(count)s times without payment.",
                invoice=self.name, count=len(sent)))
        term_lines = self._followup_open_term_lines()
        partials = term_lines.matched_credit_ids
        if self.payment_state == 'partial' and len(partials) >= 2:
            Case._followup_open(self, 'partial_payments', body=self.env._(
                "Invoice %(invoice)s was paid in %(count)s partial amounts and is still open.",
                invoice=self.name, count=len(partials)))

    @api.model
    def _followup_close_paid_cases(self):
        """Cases whose invoices are all paid (or left the case: promise or plan broken) close themselves."""
        cases = self.env['invoice.followup.case'].sudo().search([
            ('is_open', '=', True), ('move_ids', '!=', False),
            ('reason', 'in', ('promise', 'payment_plan', 'dispute', 'broken_promise', 'max_reminders',
                              'partial_payments', 'high_value')),
        ])
        paid = cases._followup_settled()
        try:
            paid = lock_rows(paid)  # another run closes those it holds
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.LockNotAvailable):
            self.env.cr.rollback()  # changed meanwhile: the next run closes them
            return cases.browse()
        if paid:
            paid.action_resolve()
            for case in paid:
                case.message_post(body=self.env._("The invoices are paid: case closed."))
        return paid

    # -------------------------------------------------------------------------
    # CRON
    # -------------------------------------------------------------------------

    @api.model
    def _followup_due_domain(self, company, today):
        """Invoices whose next reminder (or end of pause) is due: one indexed range scan."""
        return (
            Domain('followup_next_date', '<=', today)
            & Domain('company_id', '=', company.id)
            & Domain('followup_state', 'in', ('active', 'paused'))
        )

    @api.model
    def _cron_send_reminders(self, batch_size=None):
        """Daily: send every reminder that is due, one invoice per transaction, in batches."""
        batch_size = batch_size or int(
            self.env['ir.config_parameter'].sudo().get_param('invoice_followup.batch_size', 200)) or 200
        self._followup_close_paid_cases()
        companies = self.env['res.company'].search([('followup_automation', '=', True)])
        run_per_company(self, companies, self._followup_due_domain,
                        lambda moves, company, today: moves._followup_send_batch(company, today, batch_size))
        self.env['invoice.followup.log']._followup_trigger_mail_queue()

    def _followup_send_batch(self, company, today, batch_size):
        """Process the company's due invoices in batches. Return False when the cron's time budget is spent."""
        domain = self._followup_due_domain(company, today)

        def prepare(moves):
            planned = {move.id: (move.followup_next_step_id, move.followup_cycle_date) for move in moves}
            pdfs = prepare_batch(moves)
            prerendered = self._followup_prerender(moves)
            self.env['ir.cron']._commit_progress()  # each invoice's transaction starts on a fresh snapshot
            return planned, pdfs, prerendered

        return run_in_batches(
            self, domain, batch_size,
            lambda move, prepared: self._followup_cron_process_one(move, domain, today, *prepared),
            prepare=prepare)

    def _followup_cron_process_one(self, move, domain, today, planned, pdfs, prerendered):
        """One invoice (with consolidation on: the invoice and the customer's other invoices due today), one
        transaction. Return False when the rows were locked by someone else and are left for later."""
        plans = {}

        def work():
            group = move
            if move.company_id.followup_consolidate:
                group |= self.search(domain & Domain('commercial_partner_id', '=', move.commercial_partner_id.id))
            locked = lock_rows(group, claim=True)
            # And their customers: posting a reminder writes the customer's portal sign-up data, and escalations
            # open the customer's cases (one per reason), which two transactions must not do at once.
            customers = locked.partner_id | locked.commercial_partner_id
            if move not in locked or lock_rows(customers, allow_referencing=True) != customers:
                return False
            self._followup_invalidate_invoice_data()  # re-read after the lock: paid or paused meanwhile?
            if not move.filtered_domain(domain):
                move._followup_log_skipped(*planned[move.id], today)
            for candidate in locked.filtered_domain(domain):
                if plan := candidate._followup_plan(today):
                    plans[candidate] = plan
            by_email = {candidate: plan for candidate, plan in plans.items() if plan[0].channel == 'email'}
            if len(by_email) > 1:
                self._followup_run_consolidated(by_email, today)
            for candidate, (step, cycle_date, superseded) in plans.items():
                if len(by_email) <= 1 or candidate not in by_email:
                    candidate._followup_run_step(
                        step, cycle_date, today, superseded=superseded, pdf=pdfs.get(candidate.id),
                        prerendered=prerendered.get(candidate.id))
            return True

        def on_failure(error):
            for candidate, (step, cycle_date, _superseded) in (plans or {move: (None, None, None)}).items():
                self.browse(candidate.id)._followup_mark_failed(step, cycle_date, today, error)

        return run_isolated(self.env, work, on_failure, f"Reminder of invoice {move.id}")

    @api.model
    def _followup_invalidate_invoice_data(self):
        """Forget what the cache knows of invoices and of what decides their reminders (payments, logs, cases, the
        customer's address and bounces), so that they are read again; companies, policies and templates stay
        cached for the whole run."""
        for model, fnames in FRESH_AFTER_LOCK.items():
            self.env[model].invalidate_model(fnames)

    def _followup_log_skipped(self, step, cycle_date, today):
        """The invoice left the due list between selection and sending: say why on its log when it was paid."""
        self.ensure_one()
        if self.followup_state != 'done' or not step or not cycle_date:
            return
        Log = self.env['invoice.followup.log']
        if Log.search_count([('move_id', '=', self.id), ('step_id', '=', step.id), ('cycle_key', '=', cycle_date),
                             ('state', 'not in', ('cancel', 'failed'))], limit=1):
            return
        Log._followup_record({
            'move_id': self.id, 'step_id': step.id, 'cycle_key': cycle_date, 'date': today, 'state': 'skipped',
            'note': self.env._("Paid before the reminder went out."), 'currency_id': self.currency_id.id,
        })

    # -------------------------------------------------------------------------
    # RECURRING: invoices issued by an invoice.followup.recurring schedule
    # -------------------------------------------------------------------------

    recurring_id = fields.Many2one(
        'invoice.followup.recurring', string="Recurring Schedule", readonly=True, copy=False,
        index='btree_not_null', check_company=True, ondelete='restrict')
    recurring_period_start = fields.Date(string="Billed Period Start", readonly=True, copy=False)
    recurring_period_end = fields.Date(string="Billed Period End", readonly=True, copy=False)

    # Exactly once: one live invoice per schedule and period (a cancelled one lets the period be issued again).
    _recurring_period_unique = models.UniqueIndex(
        "(recurring_id, recurring_period_start) WHERE state != 'cancel' AND recurring_id IS NOT NULL",
        "This period of the recurring schedule is already invoiced.",
    )

    @api.constrains('recurring_id', 'auto_post')
    def _check_recurring_auto_post(self):
        for move in self:
            if move.recurring_id and move.auto_post in ('monthly', 'quarterly', 'yearly'):
                raise ValidationError(self.env._(
                    "Invoice %(invoice)s is issued by the recurring schedule “%(schedule)s”: it cannot also repeat "
                    "with Auto-post, that would invoice twice.",
                    invoice=move.display_name, schedule=move.recurring_id.name))

    def action_make_recurring(self):
        """Create a recurring schedule prefilled from this customer invoice, and open it."""
        self.ensure_one()
        self.env['invoice.followup.recurring'].check_access('create')
        if self.move_type != 'out_invoice':
            raise UserError(self.env._("Only a customer invoice can be made recurring."))
        if self.auto_post in ('monthly', 'quarterly', 'yearly'):
            raise UserError(self.env._(
                "Invoice %(invoice)s already repeats with Auto-post (%(period)s): switch that off first, "
                "so that it is not invoiced twice.",
                invoice=self.display_name, period=dict(self._fields['auto_post']._description_selection(self.env))[
                    self.auto_post]))
        lines = self.invoice_line_ids.filtered(lambda line: line.display_type == 'product')
        if not lines:
            raise UserError(self.env._("Invoice %(invoice)s has no line to repeat.", invoice=self.display_name))
        start = (self.invoice_date or fields.Date.context_today(self)) + relativedelta(months=1)
        schedule = self.env['invoice.followup.recurring'].create({
            'name': self.env._("%(partner)s — %(invoice)s", partner=self.partner_id.display_name,
                               invoice=self.name if self.name and self.name != '/' else self.env._("draft")),
            'company_id': self.company_id.id,
            'partner_id': self.partner_id.id,
            'currency_id': self.currency_id.id,
            'journal_id': self.journal_id.id,
            'payment_term_id': self.invoice_payment_term_id.id,
            'date_start': start,
            'followup_policy_id': self.followup_policy_manual and self.followup_policy_id.id,
            'line_ids': [Command.create({
                'sequence': line.sequence,
                'product_id': line.product_id.id,
                'name': line.name or line.product_id.display_name,
                'quantity': line.quantity,
                'price_unit': line.price_unit,
                'tax_ids': [Command.set(line.tax_ids.ids)],
                'analytic_distribution': line.analytic_distribution,
            }) for line in lines],
        })
        schedule.message_post(body=self.env._("Created from invoice %(invoice)s.", invoice=self.display_name))
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'invoice.followup.recurring',
            'res_id': schedule.id,
            'view_mode': 'form',
            'target': 'current',
        }

    def action_view_recurring(self):
        self.ensure_one()
        return {
            'type': 'ir.actions.act_window',
            'res_model': 'invoice.followup.recurring',
            'res_id': self.recurring_id.id,
            'view_mode': 'form',
        }

    # -------------------------------------------------------------------------
    # MILESTONES
    # -------------------------------------------------------------------------

    milestone_id = fields.Many2one(
        'project.milestone',
        string="Project Milestone",
        readonly=True,
        copy=False,
        ondelete='restrict',
        help="Milestone whose reaching created this invoice.",
    )
    milestone_project_id = fields.Many2one(
        related='milestone_id.project_id',
        string="Milestone Project",
        store=True,
        index='btree_not_null',
    )

    # At most one live invoice per milestone, whatever two transactions do at the same time.
    _unique_milestone_invoice = models.UniqueIndex(
        "(milestone_id) WHERE milestone_id IS NOT NULL AND state != 'cancel'",
        "A milestone already has an invoice: cancel it before invoicing the milestone again.",
    )
