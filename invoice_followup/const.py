# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Constants shared by several models of the add-on (no model here: any module may import this one)."""

# Who reads an invoice's reminder history, cases and delivery errors: billing users and read-only accountants.
# Others who may open the invoice (salesmen, project users, portal users) do not see them.
FOLLOWUP_READERS = 'account.group_account_invoice,account.group_account_readonly'
