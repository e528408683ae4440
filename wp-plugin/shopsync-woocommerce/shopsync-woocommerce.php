<?php
/**
 * Plugin Name:       shopsync for WooCommerce
 * Plugin URI:        https://github.com/shopsync/shopsync
 * Description:       The shop's half of shopsync (Symfonia ERP Handel <-> WooCommerce): ERP price lists applied to customers, the NIP at checkout, and the ERP pairing and order number shown to the shop's staff.
 * Version:           0.1.0
 * Requires at least: 6.0
 * Requires PHP:      7.4
 * Author:            shopsync
 * License:           Apache-2.0
 * License URI:       https://www.apache.org/licenses/LICENSE-2.0
 * Text Domain:       shopsync-woocommerce
 * Domain Path:       /languages
 * WC requires at least: 7.0
 * WC tested up to:   7.9
 *
 * @package Shopsync_WooCommerce
 */

defined( 'ABSPATH' ) || exit;

define( 'SHOPSYNC_WC_VERSION', '0.1.0' );
define( 'SHOPSYNC_WC_DIR', plugin_dir_path( __FILE__ ) );

require_once SHOPSYNC_WC_DIR . 'includes/class-shopsync-settings.php';
require_once SHOPSYNC_WC_DIR . 'includes/class-shopsync-nip.php';
require_once SHOPSYNC_WC_DIR . 'includes/class-shopsync-prices.php';
require_once SHOPSYNC_WC_DIR . 'includes/class-shopsync-pairing.php';
require_once SHOPSYNC_WC_DIR . 'includes/class-shopsync-invoices.php';

/**
 * Starts the plugin once WooCommerce is loaded (it does nothing without WooCommerce).
 */
function shopsync_wc_init() {
	load_plugin_textdomain( 'shopsync-woocommerce', false, dirname( plugin_basename( __FILE__ ) ) . '/languages' );
	if ( ! class_exists( 'WooCommerce' ) ) {
		add_action( 'admin_notices', 'shopsync_wc_missing_notice' );
		return;
	}
	Shopsync_Settings::init();
	Shopsync_Prices::init();
	Shopsync_Nip::init();
	Shopsync_Pairing::init();
	Shopsync_Invoices::init();
}
add_action( 'plugins_loaded', 'shopsync_wc_init' );

/**
 * Tells an administrator that the plugin needs WooCommerce.
 */
function shopsync_wc_missing_notice() {
	echo '<div class="notice notice-error"><p>' . esc_html__( 'shopsync for WooCommerce needs WooCommerce to be active.', 'shopsync-woocommerce' ) . '</p></div>';
}

// Compatible with WooCommerce's order tables (HPOS): orders are read through WooCommerce's own API.
add_action(
	'before_woocommerce_init',
	function () {
		if ( class_exists( '\Automattic\WooCommerce\Utilities\FeaturesUtil' ) ) {
			\Automattic\WooCommerce\Utilities\FeaturesUtil::declare_compatibility( 'custom_order_tables', __FILE__, true );
		}
	}
);
