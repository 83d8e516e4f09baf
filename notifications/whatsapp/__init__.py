"""Everything that speaks Meta's WhatsApp Cloud API: the client, its errors and versions, the
business number's pace, templates and buttons, the webhook, what people write back, and the
whatsapp_* commands. The ledger reaches it only through notifications.channels."""
