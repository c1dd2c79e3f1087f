# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.fields import Domain

from ..const import FOLLOWUP_READERS
from ..tools.cron_batch import run_per_company

FOLLOWUP_STATES = [
    ('none', "Not followed"),
    ('active', "Active"),
    ('paused', "Paused"),
    ('exception', "Exception"),
    ('done', "Done"),
]


class AccountMove(models.Model):
    _name = 'account.move'
    _inherit = [
        'account.move',
        'invoice.followup.schedule.mixin',
        'invoice.followup.delivery.mixin',
        'invoice.followup.cases.mixin',
        'invoice.followup.answer.mixin',
        'invoice.followup.billing.mixin',
        'invoice.followup.late.fee.mixin',
    ]

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
        """Send the next reminder step right away, whatever its date and the minimum gap: the planner's answer
        otherwise (a bounced or missing address, a review, a pause still hold it)."""
        self.check_access('write')
        Planner = self.env['invoice.followup.planner']
        labels = Planner._hold_labels()
        queued = self.env['invoice.followup.log']
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
            items = Planner.sudo()._plan(move, today, force=True,
                                         reviewed=self.env.context.get('invoice_followup_reviewed', False))
            if not items:
                raise UserError(self.env._(
                    "Invoice %(invoice)s has received every step of its policy.", invoice=move.display_name))
            if items[0].hold:
                raise UserError(self.env._(
                    "The reminder of invoice %(invoice)s is held: %(reason)s.", invoice=move.display_name,
                    reason=labels[items[0].hold]))
            queued |= self.env['invoice.followup.queue'].sudo()._apply(items, today)
        self.env['invoice.followup.delivery'].sudo()._deliver_now(queued)
        self.env['invoice.followup.log']._followup_trigger_mail_queue()
        return {
            'type': 'ir.actions.client',
            'tag': 'display_notification',
            'params': {
                'type': 'success',
                'message': self.env._("%(count)s reminder(s) sent.", count=len(queued)),
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
    # CRON (the batches: account_move_followup_delivery.py)
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
        """Daily: close the cases whose invoices are paid, queue every reminder that is due (the planner's answer),
        then deliver the queue here and on the other delivery jobs (``invoice.followup.delivery``)."""
        batch_size = batch_size or int(
            self.env['ir.config_parameter'].sudo().get_param('invoice_followup.batch_size', 200)) or 200
        companies = self.env['res.company'].search([('followup_automation', '=', True)])
        self._followup_close_paid_cases(companies)
        Queue = self.env['invoice.followup.queue']
        if not run_per_company(self, companies, self._followup_due_domain,
                               lambda moves, company, today: Queue.with_company(company)._queue_due(
                                   company, today, batch_size)):
            return
        self.env['invoice.followup.delivery']._run(batch_size, trigger_jobs=True)
