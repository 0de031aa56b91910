"""The panel's settings with channels-redis's pub/sub layer instead of its core layer.

For the live-path benchmark only (`DJANGO_SETTINGS_MODULE=bench.settings_pubsub`): everything else
is `telsam_panel.settings` as deployed.
"""

from telsam_panel.settings import *  # noqa: F403
from telsam_panel.settings import REDIS_URL

CHANNEL_LAYERS = {
    "default": {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {
            "hosts": [{"address": REDIS_URL}],
            # Pub/sub channels are shared by every database of a Redis server: keep the
            # benchmark's apart from anybody else's.
            "prefix": "telsam-bench",
        },
    },
}
