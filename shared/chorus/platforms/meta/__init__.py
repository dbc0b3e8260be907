"""Meta webhooks (one endpoint, ``/webhooks/meta``): Facebook Pages, Messenger, Instagram, WhatsApp
Cloud API and Threads. Signature in :mod:`.signature`, parsers in :mod:`.parse`, the spec in
:mod:`.webhook`."""
