<?php
/*
 * Test-only: the number of database queries a front-end page took, as an HTML comment at its end
 * (tests/test_wp_plugin.py checks that ERP prices add no query per product on a catalog page).
 */
add_action('wp_footer', function () {
    echo "\n<!-- shopsync-queries: " . (int) get_num_queries() . " -->\n";
}, PHP_INT_MAX);
