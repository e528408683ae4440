<?php
/*
 * Test-only: lets this WordPress fetch from and deliver to the sync server on
 * loopback (image URLs, webhooks). A real shop keeps WordPress's safe-URL rule
 * (ports 80/443/8080, no private hosts); tests that check the outbound-only path
 * start the site without this file (SHOPSYNC_WP_STRICT_URLS=1).
 */
if (!getenv('SHOPSYNC_WP_STRICT_URLS')) {
    add_filter('http_request_host_is_external', '__return_true');
    add_filter('http_allowed_safe_ports', function ($ports) {
        return range(1, 65535);
    });
}
