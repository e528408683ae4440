<?php
// Test-only WordPress configuration: one WordPress tree serves every test site;
// each site's database, address and uploads folder come from its environment.
define('DB_NAME', getenv('SHOPSYNC_WP_DB') ?: 'wordpress');
define('DB_USER', 'root');
define('DB_PASSWORD', '');
define('DB_HOST', '127.0.0.1:' . (getenv('SHOPSYNC_WP_DB_PORT') ?: '3306'));
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
$table_prefix = 'wp_';
$shopsync_url = getenv('SHOPSYNC_WP_URL') ?: 'http://127.0.0.1';
define('WP_HOME', $shopsync_url);
define('WP_SITEURL', $shopsync_url);
if (getenv('SHOPSYNC_WP_UPLOADS')) {
    define('UPLOADS', getenv('SHOPSYNC_WP_UPLOADS'));
}
// Keys and salts only sign test cookies on a throw-away site.
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT',
          'LOGGED_IN_SALT', 'NONCE_SALT'] as $shopsync_name) {
    define($shopsync_name, 'shopsync-test-' . $shopsync_name);
}
define('WP_ENVIRONMENT_TYPE', 'local');
define('WP_DEBUG', false);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_AUTO_UPDATE_CORE', false);
define('FS_METHOD', 'direct');
if (!defined('ABSPATH')) {
    define('ABSPATH', __DIR__ . '/');
}
require_once ABSPATH . 'wp-settings.php';
