<?php
// Installs WordPress and activates WooCommerce (first run), then configures the shop
// and creates its REST key (second run: `php install.php configure CK CS`).
// The database and address come from the same environment as wp-config.php.
$step = $argv[1] ?? 'install';
$_SERVER['HTTP_HOST'] = parse_url(getenv('SHOPSYNC_WP_URL'), PHP_URL_HOST);
$_SERVER['REQUEST_URI'] = '/';
if ($step === 'install') {
    define('WP_INSTALLING', true);
}
require getenv('SHOPSYNC_WP_ROOT') . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
require_once ABSPATH . 'wp-admin/includes/plugin.php';
if ($step === 'install') {
    wp_install('shopsync test shop', 'admin', 'admin@example.com', false, '', 'admin-password-123');
    wp_set_current_user(1);
    $result = activate_plugin('woocommerce/woocommerce.php');
    if (is_wp_error($result)) {
        fwrite(STDERR, $result->get_error_message() . "\n");
        exit(1);
    }
    echo "installed\n";
    exit(0);
}
WC_Install::install();
$options = [
    'woocommerce_currency' => 'PLN',
    'woocommerce_default_country' => 'PL',
    'woocommerce_manage_stock' => 'yes',
    'woocommerce_calc_taxes' => 'no',
    'woocommerce_price_num_decimals' => '2',
    'woocommerce_onboarding_profile' => ['skipped' => true],
    'woocommerce_task_list_hidden' => 'yes',
    'woocommerce_allow_tracking' => 'no',
    'permalink_structure' => '/%postname%/',
];
foreach ($options as $name => $value) {
    update_option($name, $value);
}
flush_rewrite_rules();
global $wpdb;
$ck = $argv[2];
$cs = $argv[3];
$wpdb->insert($wpdb->prefix . 'woocommerce_api_keys', [
    'user_id' => 1,
    'description' => 'shopsync tests',
    'permissions' => 'read_write',
    'consumer_key' => wc_api_hash($ck),
    'consumer_secret' => $cs,
    'truncated_key' => substr($ck, -7),
]);
// An application password of user 1, for image uploads through WordPress's media API
// (offered over plain HTTP because WP_ENVIRONMENT_TYPE is local). Printed for the caller.
[$app_password] = WP_Application_Passwords::create_new_application_password(1, ['name' => 'shopsync tests']);
echo "app-password:" . $app_password . "\n";
echo "configured\n";
