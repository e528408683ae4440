<?php
/**
 * Settings: a section of WooCommerce > Settings > Advanced.
 *
 * @package Shopsync_WooCommerce
 */

defined( 'ABSPATH' ) || exit;

/**
 * The plugin's options (all named shopsync_*; uninstall.php removes them).
 */
class Shopsync_Settings {

	const SECTION = 'shopsync';

	/**
	 * Option defaults. The meta keys match shopsync's settings of the same meaning.
	 *
	 * @var array<string, string>
	 */
	const DEFAULTS = array(
		'shopsync_apply_prices'            => 'yes',
		'shopsync_nip_field'               => 'yes',
		'shopsync_nip_meta_key'            => '_billing_nip',
		'shopsync_price_list_meta_key'     => '_shopsync_prices',
		'shopsync_customer_lists_meta_key' => '_shopsync_price_lists',
		'shopsync_pairing_meta_key'        => '_shopsync_pairing',
	);

	/**
	 * Hooks the section into WooCommerce's settings.
	 */
	public static function init() {
		add_filter( 'woocommerce_get_sections_advanced', array( __CLASS__, 'add_section' ) );
		add_filter( 'woocommerce_get_settings_advanced', array( __CLASS__, 'settings' ), 10, 2 );
	}

	/**
	 * An option's value, or its default.
	 *
	 * @param string $name Option name.
	 * @return string
	 */
	public static function get( $name ) {
		$value = get_option( $name, '' );
		return ( '' === $value || false === $value ) ? self::DEFAULTS[ $name ] : (string) $value;
	}

	/**
	 * Adds the "shopsync" section.
	 *
	 * @param array $sections Sections of the Advanced tab.
	 * @return array
	 */
	public static function add_section( $sections ) {
		$sections[ self::SECTION ] = __( 'shopsync (Symfonia ERP)', 'shopsync-woocommerce' );
		return $sections;
	}

	/**
	 * The section's fields.
	 *
	 * @param array  $settings Settings of the current section.
	 * @param string $section  Current section id.
	 * @return array
	 */
	public static function settings( $settings, $section ) {
		if ( self::SECTION !== $section ) {
			return $settings;
		}
		return array(
			array(
				'title' => __( 'shopsync (Symfonia ERP)', 'shopsync-woocommerce' ),
				'type'  => 'title',
				'desc'  => __( 'What the shop does with the data shopsync keeps in it. The meta keys must match shopsync\'s settings.', 'shopsync-woocommerce' ),
				'id'    => 'shopsync_options',
			),
			array(
				'title'   => __( 'ERP prices', 'shopsync-woocommerce' ),
				'desc'    => __( 'Charge logged-in customers their ERP price lists (own list first, then their group\'s, then the base price)', 'shopsync-woocommerce' ),
				'id'      => 'shopsync_apply_prices',
				'type'    => 'checkbox',
				'default' => 'yes',
			),
			array(
				'title'   => __( 'NIP at checkout', 'shopsync-woocommerce' ),
				'desc'    => __( 'Add an optional NIP field to the billing address (turn off when another plugin already asks for it; the key below is then only read)', 'shopsync-woocommerce' ),
				'id'      => 'shopsync_nip_field',
				'type'    => 'checkbox',
				'default' => 'yes',
			),
			array(
				'title'   => __( 'NIP meta key', 'shopsync-woocommerce' ),
				'desc'    => __( 'Customer and order meta holding the NIP (shopsync: shop.nip_meta_key)', 'shopsync-woocommerce' ),
				'id'      => 'shopsync_nip_meta_key',
				'type'    => 'text',
				'default' => '_billing_nip',
			),
			array(
				'title'   => __( 'Product price lists meta key', 'shopsync-woocommerce' ),
				'desc'    => __( 'shopsync: shop.price_list_meta_key', 'shopsync-woocommerce' ),
				'id'      => 'shopsync_price_list_meta_key',
				'type'    => 'text',
				'default' => '_shopsync_prices',
			),
			array(
				'title'   => __( 'Customer price lists meta key', 'shopsync-woocommerce' ),
				'desc'    => __( 'shopsync: shop.customer_price_lists_meta_key', 'shopsync-woocommerce' ),
				'id'      => 'shopsync_customer_lists_meta_key',
				'type'    => 'text',
				'default' => '_shopsync_price_lists',
			),
			array(
				'title'   => __( 'Pairing meta key', 'shopsync-woocommerce' ),
				'desc'    => __( 'shopsync: shop.pairing_meta_key', 'shopsync-woocommerce' ),
				'id'      => 'shopsync_pairing_meta_key',
				'type'    => 'text',
				'default' => '_shopsync_pairing',
			),
			array(
				'type' => 'sectionend',
				'id'   => 'shopsync_options',
			),
		);
	}
}
