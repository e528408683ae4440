<?php
/**
 * The NIP (Polish tax id) at checkout: an optional billing field, checked with the NIP checksum and stored
 * under the meta key shopsync reads for pairing; and "I want an invoice", which makes shopsync issue an invoice
 * rather than a receipt (orders.document = "by_buyer" reads the order meta WANT_INVOICE).
 *
 * @package Shopsync_WooCommerce
 */

defined( 'ABSPATH' ) || exit;

/**
 * NIP field, validation and storage.
 */
class Shopsync_Nip {

	const FIELD = 'billing_nip';

	const WANT_INVOICE_FIELD = 'billing_want_invoice';

	const WANT_INVOICE = '_billing_want_invoice';

	/**
	 * Hooks the field (unless another plugin provides it: then the stored value is only read).
	 */
	public static function init() {
		if ( 'yes' !== Shopsync_Settings::get( 'shopsync_nip_field' ) ) {
			return;
		}
		add_filter( 'woocommerce_billing_fields', array( __CLASS__, 'billing_fields' ) );
		add_action( 'woocommerce_after_checkout_validation', array( __CLASS__, 'validate_checkout' ), 10, 2 );
		add_action( 'woocommerce_checkout_create_order', array( __CLASS__, 'store_on_order' ), 10, 2 );
		add_action( 'woocommerce_checkout_update_customer', array( __CLASS__, 'store_on_customer' ), 10, 2 );
		add_action( 'woocommerce_after_save_address_validation', array( __CLASS__, 'validate_address' ), 10, 2 );
		add_filter( 'woocommerce_customer_meta_fields', array( __CLASS__, 'admin_fields' ) );
	}

	/**
	 * Ten digits of a valid NIP, or '' (PL prefix, spaces and dashes accepted).
	 *
	 * @param string $value As typed.
	 * @return string
	 */
	public static function normalize( $value ) {
		$nip = strtoupper( preg_replace( '/[\s\-]/', '', (string) $value ) );
		if ( 0 === strpos( $nip, 'PL' ) ) {
			$nip = substr( $nip, 2 );
		}
		if ( ! preg_match( '/^\d{10}$/', $nip ) ) {
			return '';
		}
		$weights = array( 6, 5, 7, 2, 3, 4, 5, 6, 7 );
		$sum     = 0;
		foreach ( $weights as $i => $weight ) {
			$sum += $weight * (int) $nip[ $i ];
		}
		$check = $sum % 11;
		return ( 10 !== $check && (int) $nip[9] === $check ) ? $nip : '';
	}

	/**
	 * Adds the optional NIP field after the company name.
	 *
	 * @param array $fields Billing fields.
	 * @return array
	 */
	public static function billing_fields( $fields ) {
		$fields[ self::FIELD ] = array(
			'label'       => __( 'NIP (tax id)', 'shopsync-woocommerce' ),
			'placeholder' => __( 'for a company invoice, e.g. PL 526-000-12-46', 'shopsync-woocommerce' ),
			'required'    => false,
			'class'       => array( 'form-row-wide' ),
			'priority'    => 35,
			'maxlength'   => 20,
		);
		$fields[ self::WANT_INVOICE_FIELD ] = array(
			'type'     => 'checkbox',
			'label'    => __( 'I want a VAT invoice (without it you get a receipt)', 'shopsync-woocommerce' ),
			'required' => false,
			'class'    => array( 'form-row-wide' ),
			'priority' => 36,
		);
		return $fields;
	}

	/**
	 * The error text for an invalid NIP.
	 *
	 * @return string
	 */
	public static function error_message() {
		return __( 'The NIP is not valid: enter the 10 digits of the company\'s tax id (a PL prefix, spaces and dashes are fine), or leave the field empty.', 'shopsync-woocommerce' );
	}

	/**
	 * Refuses an order whose NIP is filled in but not valid.
	 *
	 * @param array    $data   Posted checkout data.
	 * @param WP_Error $errors Checkout errors.
	 */
	public static function validate_checkout( $data, $errors ) {
		$value = isset( $data[ self::FIELD ] ) ? trim( (string) $data[ self::FIELD ] ) : '';
		if ( '' !== $value && '' === self::normalize( $value ) ) {
			$errors->add( 'billing_nip_validation', self::error_message(), array( 'id' => self::FIELD ) );
		}
	}

	/**
	 * Same check when a customer edits the billing address in My Account.
	 *
	 * @param int    $user_id      Customer.
	 * @param string $address_type billing or shipping.
	 */
	public static function validate_address( $user_id, $address_type ) {
		if ( 'billing' !== $address_type ) {
			return;
		}
		// phpcs:ignore WordPress.Security.NonceVerification.Missing -- WooCommerce checked the form's nonce before this action.
		$value = isset( $_POST[ self::FIELD ] ) ? trim( sanitize_text_field( wp_unslash( $_POST[ self::FIELD ] ) ) ) : '';
		if ( '' !== $value && '' === self::normalize( $value ) ) {
			wc_add_notice( self::error_message(), 'error' );
		} elseif ( '' !== $value ) {
			update_user_meta( $user_id, Shopsync_Settings::get( 'shopsync_nip_meta_key' ), self::normalize( $value ) );
		}
	}

	/**
	 * Stores the normalised NIP on the order under the meta key shopsync reads.
	 *
	 * @param WC_Order $order Order being created.
	 * @param array    $data  Posted checkout data.
	 */
	public static function store_on_order( $order, $data ) {
		$nip = self::normalize( isset( $data[ self::FIELD ] ) ? $data[ self::FIELD ] : '' );
		if ( '' !== $nip ) {
			$order->update_meta_data( Shopsync_Settings::get( 'shopsync_nip_meta_key' ), $nip );
		}
		$order->update_meta_data( self::WANT_INVOICE, ! empty( $data[ self::WANT_INVOICE_FIELD ] ) ? 'yes' : 'no' );
	}

	/**
	 * Stores the normalised NIP on the customer (the key shopsync pairs by).
	 *
	 * @param WC_Customer $customer Customer being updated.
	 * @param array       $data     Posted checkout data.
	 */
	public static function store_on_customer( $customer, $data ) {
		$nip = self::normalize( isset( $data[ self::FIELD ] ) ? $data[ self::FIELD ] : '' );
		if ( '' !== $nip ) {
			$customer->update_meta_data( Shopsync_Settings::get( 'shopsync_nip_meta_key' ), $nip );
		}
	}

	/**
	 * The NIP on the user's profile screen, with the billing address.
	 *
	 * @param array $fields Customer meta fields of the profile screen.
	 * @return array
	 */
	public static function admin_fields( $fields ) {
		if ( isset( $fields['billing']['fields'] ) ) {
			$fields['billing']['fields'][ self::FIELD ] = array(
				'label'       => __( 'NIP (tax id)', 'shopsync-woocommerce' ),
				'description' => '',
			);
		}
		return $fields;
	}
}
