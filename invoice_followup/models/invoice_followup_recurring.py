# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).

from markupsafe import Markup

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.fields import Command, Domain
from odoo.tools import format_date

from ..tools.cron_batch import run_in_batches, run_isolated, run_per_company

INTERVAL_UNITS = [
    ('day', "Days"),
    ('week', "Weeks"),
    ('month', "Months"),
    ('year', "Years"),
]
RECURRING_STATES = [
    ('draft', "Draft"),
    ('running', "Running"),
    ('paused', "Paused"),
    ('done', "Done"),
]


class InvoiceFollowupRecurring(models.Model):
    _name = 'invoice.followup.recurring'
    _description = "Recurring Invoice Schedule"
    _inherit = ['mail.thread', 'mail.activity.mixin']
    _order = 'next_invoice_date, id'
    _check_company_auto = True

    name = fields.Char(
        required=True, tracking=True, compute='_compute_name', store=True, readonly=False, precompute=True,
        help="By default the customer and the frequency.")
    company_id = fields.Many2one(
        'res.company', required=True, index=True, default=lambda self: self.env.company)
    partner_id = fields.Many2one(
        'res.partner', string="Customer", required=True, index=True, check_company=True, tracking=True)
    currency_id = fields.Many2one(
        'res.currency', required=True, tracking=True, default=lambda self: self._default_currency_id())
    journal_id = fields.Many2one(
        'account.journal', required=True, check_company=True,
        domain="[('type', '=', 'sale')]",
        default=lambda self: self._default_journal_id())
    payment_term_id = fields.Many2one('account.payment.term', check_company=True)
    line_ids = fields.One2many('invoice.followup.recurring.line', 'recurring_id', string="Lines", copy=True)
    interval_number = fields.Integer(string="Every", required=True, default=1, tracking=True)
    interval_unit = fields.Selection(INTERVAL_UNITS, required=True, default='month', tracking=True)
    billing_timing = fields.Selection(
        [('advance', "In advance"), ('arrears', "In arrears")],
        required=True, default='advance', tracking=True,
        help="In advance: a period is invoiced on its first day. "
             "In arrears: a period is invoiced the day after it ends.")
    date_start = fields.Date(
        string="Start Date", required=True, tracking=True, default=lambda self: fields.Date.context_today(self),
        help="First day of the first period. Later periods start on the same day of the month (or the last day "
             "of shorter months).")
    date_end = fields.Date(
        string="End Date", tracking=True, help="No period starting after this date is invoiced.")
    max_invoices = fields.Integer(
        string="Number of Invoices", tracking=True, help="Stop after this many invoices (0: no limit).")
    period_index = fields.Integer(
        string="Next Period Number", default=0, copy=False, readonly=True,
        help="Number of the next period to invoice, counted from the start date (0 is the first period).")
    next_invoice_date = fields.Date(
        compute='_compute_next_invoice_date', store=True, index='btree_not_null', copy=False,
        help="When the next invoice is issued.")
    next_dates_display = fields.Char(
        string="Next Billing Dates", compute='_compute_next_dates_display')
    state = fields.Selection(
        RECURRING_STATES, required=True, default='draft', copy=False, index=True, tracking=True)
    date_started = fields.Date(
        string="Started On", copy=False, readonly=True,
        help="The day the schedule was started: periods billed before it are invoiced only once a person "
             "confirms them.")
    past_periods_confirmed = fields.Boolean(
        string="Earlier Periods Confirmed", copy=False, readonly=True, tracking=True,
        help="A person confirmed that the periods billed before the day the schedule was started are invoiced.")
    past_period_count = fields.Integer(
        string="Earlier Periods to Confirm", compute='_compute_past_period_count',
        help="Periods billed before the day the schedule was started, waiting for a person's confirmation.")
    auto_post = fields.Boolean(
        string="Post Automatically", default=True, help="Post each invoice when it is generated.")
    auto_send = fields.Boolean(
        string="Send Automatically",
        help="E-mail each posted invoice to the customer with its PDF, the way the Send button does.")
    mail_template_id = fields.Many2one(
        'mail.template', string="E-mail Template", check_company=True,
        domain="[('model', '=', 'account.move')]",
        default=lambda self: self._default_mail_template_id())
    followup_policy_id = fields.Many2one(
        'invoice.followup.policy', string="Follow-up Policy", check_company=True,
        help="Reminder policy of the generated invoices. Empty: the customer's or the company's.")
    invoice_ids = fields.One2many('account.move', 'recurring_id', string="Invoices", readonly=True)
    invoice_count = fields.Integer(compute='_compute_invoice_count', store=True)
    error_message = fields.Text(string="Last Error", copy=False, readonly=True)
    error_date = fields.Date(copy=False, readonly=True)

    _interval_number_positive = models.Constraint(
        'CHECK (interval_number > 0)', "The interval must be at least 1.")
    _max_invoices_positive = models.Constraint(
        'CHECK (max_invoices >= 0)', "The number of invoices cannot be negative.")

    # -------------------------------------------------------------------------
    # DEFAULTS
    # -------------------------------------------------------------------------

    def _default_currency_id(self):
        return self.env.company.currency_id

    def _default_journal_id(self):
        return self.env['account.journal'].search(
            [*self.env['account.journal']._check_company_domain(self.env.company), ('type', '=', 'sale')], limit=1)

    def _default_mail_template_id(self):
        return self.env.ref('account.email_template_edi_invoice', raise_if_not_found=False)

    # -------------------------------------------------------------------------
    # COMPUTE METHODS
    # -------------------------------------------------------------------------

    @api.depends('partner_id', 'interval_number', 'interval_unit')
    def _compute_name(self):
        for schedule in self:
            if not schedule.name and schedule.partner_id and schedule.interval_unit:
                schedule.name = self.env._(
                    "%(customer)s — %(frequency)s", customer=schedule.partner_id.display_name,
                    frequency=schedule._frequency_label())

    @api.depends('date_start', 'date_end', 'max_invoices', 'interval_number', 'interval_unit', 'billing_timing',
                 'period_index', 'state', 'invoice_count')
    def _compute_next_invoice_date(self):
        for schedule in self:
            if schedule.state not in ('running', 'paused') or schedule._is_finished():
                schedule.next_invoice_date = False
            else:
                schedule.next_invoice_date = schedule._billing_date(schedule.period_index)

    @api.depends('next_invoice_date', 'state', 'date_end', 'max_invoices', 'invoice_count')
    def _compute_next_dates_display(self):
        for schedule in self:
            dates = schedule._next_billing_dates(3) if schedule.date_start and schedule.interval_number > 0 else []
            lang = schedule.partner_id.lang or self.env.lang
            schedule.next_dates_display = ", ".join(format_date(self.env, day, lang_code=lang) for day in dates)

    @api.depends('state', 'date_started', 'past_periods_confirmed', 'period_index', 'invoice_count')
    def _compute_past_period_count(self):
        for schedule in self:
            awaiting = schedule.state in ('running', 'paused') and not schedule.past_periods_confirmed
            schedule.past_period_count = len(schedule._periods_before(schedule.date_started)) if awaiting else 0

    @api.depends('invoice_ids.state')
    def _compute_invoice_count(self):
        counts = dict(self.env['account.move'].sudo()._read_group(
            [('recurring_id', 'in', self.ids), ('state', '!=', 'cancel')], ['recurring_id'], ['__count']))
        for schedule in self:
            schedule.invoice_count = counts.get(schedule, 0)

    # -------------------------------------------------------------------------
    # CONSTRAINTS
    # -------------------------------------------------------------------------

    @api.constrains('date_start', 'date_end')
    def _check_dates(self):
        for schedule in self:
            if schedule.date_end and schedule.date_end < schedule.date_start:
                raise ValidationError(self.env._(
                    "The end date of “%(name)s” is before its start date.", name=schedule.name))

    @api.constrains('auto_send', 'auto_post', 'mail_template_id')
    def _check_auto_send(self):
        for schedule in self:
            if schedule.auto_send and not schedule.auto_post:
                raise ValidationError(self.env._(
                    "“%(name)s” can only send its invoices automatically if it also posts them.",
                    name=schedule.name))
            if schedule.auto_send and not schedule.mail_template_id:
                raise ValidationError(self.env._(
                    "Choose the e-mail template “%(name)s” sends its invoices with.", name=schedule.name))

    # -------------------------------------------------------------------------
    # CRUD
    # -------------------------------------------------------------------------

    @api.model_create_multi
    def create(self, vals_list):
        schedules = super().create(vals_list)
        schedules._set_date_started()
        return schedules

    def write(self, vals):
        if any(key in vals for key in ('date_start', 'interval_number', 'interval_unit', 'billing_timing')):
            if self.filtered(lambda schedule: schedule.invoice_ids):
                raise UserError(self.env._(
                    "The start date, interval and billing timing of a schedule that has invoiced cannot change: "
                    "end it and create a new one."))
        res = super().write(vals)
        if vals.get('state') == 'running':
            self._set_date_started()
        return res

    def _set_date_started(self):
        """However a schedule comes to run (Start, an import, code), the day it did is kept: the periods billed
        before it wait for a person's confirmation."""
        for schedule in self.filtered(lambda schedule: schedule.state == 'running' and not schedule.date_started):
            schedule.date_started = schedule.company_id._followup_today()

    @api.ondelete(at_uninstall=False)
    def _unlink_except_invoiced(self):
        if self.filtered('invoice_ids'):
            raise UserError(self.env._("A schedule that has issued invoices cannot be deleted: end it instead."))

    # -------------------------------------------------------------------------
    # ACTIONS
    # -------------------------------------------------------------------------

    def action_start(self):
        """Start the schedules. One whose periods are billed before today asks first (the start wizard lists
        them): invoice them too, or start from the next period."""
        for schedule in self:
            if schedule.state != 'draft':
                raise UserError(self.env._("“%(name)s” has already started.", name=schedule.name))
            if not schedule.line_ids:
                raise UserError(self.env._("Add at least one line to “%(name)s” before starting it.",
                                           name=schedule.name))
        asking = self.filtered(lambda schedule: schedule._periods_before(schedule._confirmation_day()))
        if len(asking) > 1:
            raise UserError(self.env._(
                "%(names)s have periods billed before today: start them one by one to say what to do with those "
                "periods.", names=", ".join(asking.mapped('name'))))
        (self - asking)._start()
        return asking._open_start_wizard() if asking else True

    def action_review_past_periods(self):
        """A running schedule whose earlier periods wait for confirmation: list them and ask."""
        self.ensure_one()
        if not self.past_period_count:
            raise UserError(self.env._("“%(name)s” has no earlier period to confirm.", name=self.name))
        return self._open_start_wizard()

    def action_pause(self):
        if self.filtered(lambda schedule: schedule.state != 'running'):
            raise UserError(self.env._("Only a running schedule can be paused."))
        self.write({'state': 'paused'})
        return True

    def action_resume(self):
        """Resume billing from today on: the periods that fell due while paused are skipped, not back-billed.
        On a running schedule whose last run failed, clear the error so that today's run tries again."""
        if self.filtered(lambda schedule: schedule.state not in ('paused', 'running')):
            raise UserError(self.env._("Only a paused schedule can be resumed."))
        for schedule in self:
            today = schedule.company_id._followup_today()
            index = schedule.period_index
            if schedule.state == 'paused':
                while schedule._billing_date(index) < today:
                    index += 1
            skipped = index - schedule.period_index
            schedule.write({'state': 'running', 'period_index': index, 'error_message': False, 'error_date': False})
            activities = schedule._error_activities()
            if not schedule.past_period_count:  # the earlier periods waiting for confirmation were skipped too
                activities |= schedule._confirmation_activities()
            activities.action_feedback(feedback=self.env._("Resumed by %(user)s.", user=self.env.user.name))
            if skipped:
                schedule.message_post(body=self.env._(
                    "Resumed: %(count)s period(s) paused are not invoiced.", count=skipped))
        return True

    def action_end(self):
        self.write({'state': 'done'})
        return True

    def action_reset_draft(self):
        if self.filtered('invoice_ids'):
            raise UserError(self.env._("A schedule that has issued invoices cannot go back to draft."))
        self.write({'state': 'draft', 'period_index': 0, 'date_started': False, 'past_periods_confirmed': False})
        return True

    def action_view_invoices(self):
        self.ensure_one()
        action = self.env['ir.actions.act_window']._for_xml_id('account.action_move_out_invoice_type')
        action['domain'] = [('recurring_id', '=', self.id)]
        action['context'] = {'default_move_type': 'out_invoice', 'create': False}
        return action

    def action_generate_now(self):
        """Issue the invoices due today now, instead of waiting for the daily run."""
        self.check_access('write')
        for schedule in self:
            if schedule.state != 'running':
                raise UserError(self.env._("“%(name)s” is not running.", name=schedule.name))
            if schedule.past_period_count:
                return schedule.action_review_past_periods()
            schedule.with_company(schedule.company_id)._generate_due_invoices(schedule.company_id._followup_today())
        return True

    # -------------------------------------------------------------------------
    # BUSINESS METHODS: invoicing
    # -------------------------------------------------------------------------

    def _prepare_invoice_vals(self, index):
        self.ensure_one()
        start, end = self._period(index)
        label = self._period_label(start, end)
        vals = {
            'move_type': 'out_invoice',
            'company_id': self.company_id.id,
            'partner_id': self.partner_id.id,
            'currency_id': self.currency_id.id,
            'journal_id': self.journal_id.id,
            'invoice_payment_term_id': self.payment_term_id.id,
            'invoice_date': self._billing_date(index),
            'invoice_origin': self.name,
            'auto_post': 'no',  # never Odoo's own recurrence on top of ours
            'recurring_id': self.id,
            'recurring_period_start': start,
            'recurring_period_end': end,
            'invoice_line_ids': [Command.create(line._prepare_invoice_line_vals(label)) for line in self.line_ids],
        }
        if self.followup_policy_id:
            vals.update(followup_policy_id=self.followup_policy_id.id, followup_policy_manual=True)
        return vals

    def _existing_invoice(self, start):
        self.ensure_one()
        return self.env['account.move'].search(
            [('recurring_id', '=', self.id), ('recurring_period_start', '=', start), ('state', '!=', 'cancel')],
            limit=1)

    def _generate_period(self, index):
        """Issue (post, send) the invoice of the period ``index``, unless it already exists. Return it."""
        self.ensure_one()
        start = self._period(index)[0]
        invoice = self._existing_invoice(start)
        if invoice:
            return invoice
        if not self.line_ids:
            raise UserError(self.env._("“%(name)s” has no line to invoice.", name=self.name))
        invoice = self.env['account.move'].with_company(self.company_id).create(self._prepare_invoice_vals(index))
        if self.auto_post:
            invoice.action_post()
            if self.auto_send:
                self._send_invoice(invoice)
        return invoice

    def _send_invoice(self, invoice):
        """Odoo's own invoice sending, through its sending job and the mail queue (never inside this run): the
        PDF is rendered and attached, the e-mail queued with the schedule's template, the invoice marked as sent.
        """
        self.ensure_one()
        if not invoice.partner_id.email:
            raise UserError(self.env._(
                "%(partner)s has no e-mail address: invoice %(invoice)s cannot be sent.",
                partner=invoice.partner_id.display_name, invoice=invoice.name))
        self.env['account.move.send']._followup_send_later(invoice, self._responsible())

    def _generate_next(self, today):
        """Issue the invoice of the next period if it is due by ``today``, and move on to the following period.

        :return: the invoice, or None when nothing is due
        """
        self.ensure_one()
        if self.state != 'running' or self._is_finished() or self._billing_date(self.period_index) > today:
            return None
        if self._awaits_confirmation(self.period_index):
            self._ask_confirmation()
            return None
        invoice = self._generate_period(self.period_index)
        self.period_index += 1
        self.invalidate_recordset(['invoice_count', 'invoice_ids'])
        if self.error_message:
            self.write({'error_message': False, 'error_date': False})
            self._error_activities().action_feedback(feedback=self.env._("Recurring invoicing works again."))
        if self._is_finished():
            self.state = 'done'
            self.message_post(body=self.env._("Schedule ended: its last period is invoiced."))
        return invoice

    def _generate_due_invoices(self, today):
        """Issue every invoice due by ``today`` (catch-up: one per missed period), in period order."""
        self.ensure_one()
        invoices = self.env['account.move']
        while invoice := self._generate_next(today):
            invoices |= invoice
        return invoices

    def _todos(self, summary):
        todo = self.env.ref('mail.mail_activity_data_todo')
        return self.activity_ids.filtered(
            lambda activity: activity.activity_type_id == todo and activity.summary == summary)

    def _error_activities(self):
        return self._todos(self.env._("Recurring invoice failed"))

    def _responsible(self):
        """Who is in charge of the schedule: its creator while a person (not OdooBot, nor an archived or portal
        user), else the company's collections responsible, else the current user."""
        self.ensure_one()
        owner = self.create_uid
        if owner._followup_is_person():
            return owner
        return self.company_id._followup_responsible() or self.env.user

    def _mark_failed(self, today, error):
        """Record why the schedule failed today: it leaves today's run, and is retried tomorrow or when resumed."""
        self.ensure_one()
        message = str(error.args[0]) if isinstance(error, UserError) and error.args else str(error)
        self.write({'error_message': message, 'error_date': today})
        self.message_post(body=self.env._("Recurring invoice not issued: %(error)s", error=message))
        if not self._error_activities():
            self.activity_schedule(
                'mail.mail_activity_data_todo',
                date_deadline=today,
                summary=self.env._("Recurring invoice failed"),
                note=Markup("<p>%s</p>") % message,
                user_id=self._responsible().id,
            )
        self._report_failure(message)

    def _report_failure(self, message):
        """A person must look at it: a failure case on the collections board (one per customer while open)."""
        self.ensure_one()
        self.env['invoice.followup.case']._followup_open(
            self.env['account.move'], 'failure', partner=self.partner_id.commercial_partner_id,
            company=self.company_id, body=self.env._(
                "Recurring schedule %(schedule)s could not issue its invoice: %(error)s",
                schedule=self.display_name, error=message))

    # -------------------------------------------------------------------------
    # CRON
    # -------------------------------------------------------------------------

    @api.model
    def _due_domain(self, company, today):
        return (
            Domain('state', '=', 'running')
            & Domain('company_id', '=', company.id)
            & Domain('next_invoice_date', '<=', today)
            & (Domain('error_date', '=', False) | Domain('error_date', '<', today))
        )

    @api.model
    def _cron_generate_recurring(self, batch_size=None):
        """Daily: issue the invoices of every schedule due, one schedule and period per transaction."""
        batch_size = batch_size or 100
        companies = self.env['res.company'].union(
            *(company for [company] in self.sudo()._read_group([('state', '=', 'running')], ['company_id'])))
        run_per_company(self, companies, self._due_domain,
                        lambda schedules, company, today: schedules._generate_batch(company, today, batch_size))

    def _generate_batch(self, company, today, batch_size):
        """Schedules of one company. Return False when the cron's time budget is spent."""
        domain = self._due_domain(company, today)
        return run_in_batches(self, domain, batch_size,
                              lambda schedule, _prepared: self._generate_one(schedule, domain, today))

    def _generate_one(self, schedule, domain, today):
        """One schedule: issue its due invoices, one period per transaction (lock, re-check, issue, commit), so
        that a crash keeps the periods already issued and a re-run never issues them again.
        Return False when the row was locked by someone else (left for later)."""
        def work():
            if not schedule.try_lock_for_update():
                return False
            self.env.invalidate_all()  # re-read after the lock: paused, ended or issued meanwhile?
            if not schedule.filtered_domain(domain) or not schedule._generate_next(today):
                return True
            return None  # one period issued: commit it, then look for the next one

        while (done := run_isolated(self.env, work, lambda error: self.browse(schedule.id)._mark_failed(today, error),
                                    f"Recurring schedule {schedule.id}",
                                    done_index='recurring_period_unique')) is None:
            self.env['ir.cron']._commit_progress()
        return done
