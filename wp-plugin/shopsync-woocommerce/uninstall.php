<?php
/**
 * Uninstall: the plugin's options go; it made no tables. The meta shopsync writes (prices, pairing, ERP
 * order numbers) belongs to the sync and stays, so reinstalling loses nothing.
 *
 * @package Shopsync_WooCommerce
 */

defined( 'WP_UNINSTALL_PLUGIN' ) || exit;

foreach ( array( 'shopsync_apply_prices', 'shopsync_nip_field', 'shopsync_nip_meta_key', 'shopsync_price_list_meta_key', 'shopsync_customer_lists_meta_key', 'shopsync_pairing_meta_key' ) as $shopsync_option ) {
	delete_option( $shopsync_option );
}
