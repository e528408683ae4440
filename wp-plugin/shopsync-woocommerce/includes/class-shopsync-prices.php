<?php
/**
 * ERP price lists for logged-in customers: the customer's own list first, then the group's, then the base price.
 *
 * shopsync keeps the lists' prices on each product (meta `_shopsync_prices`: list code => price) and, on each
 * customer, the codes of the lists that apply, in order (meta `_shopsync_price_lists`: own list first). The
 * price is taken from those two, never from anything the browser sends; WooCommerce then applies taxes as
 * the shop is configured (prices entered with or without tax), in the catalog, the cart, the checkout and
 * the order it creates. Product meta is loaded with the product, and the customer's lists once per request:
 * a catalog page of 100 products makes no extra query per product.
 *
 * @package Shopsync_WooCommerce
 */

defined( 'ABSPATH' ) || exit;

/**
 * Price filters.
 */
class Shopsync_Prices {

	/**
	 * The current customer's list codes (null: not read yet in this request).
	 *
	 * @var array|null
	 */
	private static $lists = null;

	/**
	 * User id the lists were read for.
	 *
	 * @var int
	 */
	private static $lists_user = -1;

	/**
	 * Hooks the price filters (view context only: the REST API's edit context and the admin screens show
	 * the product's own prices).
	 */
	public static function init() {
		if ( 'yes' !== Shopsync_Settings::get( 'shopsync_apply_prices' ) ) {
			return;
		}
		add_filter( 'woocommerce_product_get_price', array( __CLASS__, 'price' ), 20, 2 );
		add_filter( 'woocommerce_product_variation_get_price', array( __CLASS__, 'price' ), 20, 2 );
		add_filter( 'woocommerce_variation_prices_price', array( __CLASS__, 'variation_price' ), 20, 3 );
		add_filter( 'woocommerce_get_variation_prices_hash', array( __CLASS__, 'variation_prices_hash' ), 20, 3 );
		add_filter( 'woocommerce_product_is_on_sale', array( __CLASS__, 'is_on_sale' ), 20, 2 );
	}

	/**
	 * The price-list codes that apply to the current customer, own list first (read once per request).
	 *
	 * @return array
	 */
	public static function customer_lists() {
		$user = get_current_user_id();
		if ( self::$lists_user !== $user ) {
			self::$lists_user = $user;
			self::$lists      = array();
			if ( $user ) {
				$codes = get_user_meta( $user, Shopsync_Settings::get( 'shopsync_customer_lists_meta_key' ), true );
				if ( is_string( $codes ) && '' !== $codes ) {
					$decoded = json_decode( $codes, true );
					$codes   = is_array( $decoded ) ? $decoded : array( $codes );
				}
				self::$lists = is_array( $codes ) ? array_values( array_filter( array_map( 'strval', $codes ) ) ) : array();
			}
		}
		return self::$lists;
	}

	/**
	 * The list price of a product for the current customer, or null (base price applies).
	 *
	 * @param WC_Product $product Product.
	 * @return string|null
	 */
	public static function list_price( $product ) {
		$lists = self::customer_lists();
		if ( empty( $lists ) ) {
			return null;
		}
		// WordPress's post meta cache, which the catalog's query fills for all its products in one query
		// (WC_Product::get_meta would read each product's meta with a query of its own).
		$prices = get_post_meta( $product->get_id(), Shopsync_Settings::get( 'shopsync_price_list_meta_key' ), true );
		if ( is_string( $prices ) && '' !== $prices ) {
			$prices = json_decode( $prices, true );
		}
		if ( ! is_array( $prices ) ) {
			return null;
		}
		foreach ( $lists as $code ) {
			if ( isset( $prices[ $code ] ) && is_numeric( $prices[ $code ] ) && (float) $prices[ $code ] >= 0 ) {
				return wc_format_decimal( $prices[ $code ] );
			}
		}
		return null;
	}

	/**
	 * Filter of the product's price.
	 *
	 * @param string     $price   The product's own price.
	 * @param WC_Product $product Product.
	 * @return string
	 */
	public static function price( $price, $product ) {
		$list = self::list_price( $product );
		return null === $list ? $price : $list;
	}

	/**
	 * A variation's price in its variable product's price range ("from ... to ..."): the customer's list price
	 * of that variation (each variation is an ERP card with its own lists).
	 *
	 * @param string     $price     The variation's own price.
	 * @param WC_Product $variation Variation.
	 * @param WC_Product $product   Its variable product.
	 * @return string
	 */
	public static function variation_price( $price, $variation, $product ) {
		return self::price( $price, $variation );
	}

	/**
	 * A product at its list price is not shown as on sale (the list price is the customer's price).
	 *
	 * @param bool       $on_sale Whether WooCommerce thinks so.
	 * @param WC_Product $product Product.
	 * @return bool
	 */
	public static function is_on_sale( $on_sale, $product ) {
		return null === self::list_price( $product ) ? $on_sale : false;
	}

	/**
	 * Variation prices are cached per hash: the customer's lists are part of it.
	 *
	 * @param array      $hash       Hash parts.
	 * @param WC_Product $product    Variable product.
	 * @param bool       $for_display Whether for display.
	 * @return array
	 */
	public static function variation_prices_hash( $hash, $product, $for_display ) {
		$hash[] = implode( ',', self::customer_lists() );
		return $hash;
	}
}
