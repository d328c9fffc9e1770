"""Node-to-node sync: a signed pull protocol over HTTP, the peer store and the puller.

The pure parts (signing, protocol, peers, nonces, client, puller) know nothing of Flask;
`routes.py` serves this node's log and `cli.py` holds the `flask node/peers/sync` commands."""
