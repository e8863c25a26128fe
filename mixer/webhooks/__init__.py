"""Webhooks: telling an organization's other systems what happened in Mixer.

An admin registers HTTPS endpoints (``WebhookEndpoint``) and picks event types.
When one of them happens, ``emit`` writes one ``WebhookDelivery`` per subscribed
endpoint, and the job that delivers it, in the transaction of the change itself
(the outbox pattern: a rolled-back change sends nothing, a committed one is never
lost). The worker POSTs the signed JSON (Standard Webhooks headers), retrying
with backoff for about a day; an endpoint that has failed for a day is switched
off and the admins are e-mailed. Features tell us what happened through
``mixer.signals`` (``listeners.py``); nothing imports webhooks.
``docs/webhooks.md`` is the receiver's manual.
"""
