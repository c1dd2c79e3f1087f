# Fed to `odoo shell` by scripts/test.sh: the add-on must uninstall cleanly.
module = env['ir.module.module'].search([('name', '=', 'invoice_followup')])  # noqa: F821
module.button_immediate_uninstall()
env.cr.commit()  # noqa: F821
state = env['ir.module.module'].search([('name', '=', 'invoice_followup')]).state  # noqa: F821
print(f"invoice_followup after uninstall: {state}")
if state != 'uninstalled':
    raise SystemExit(1)
