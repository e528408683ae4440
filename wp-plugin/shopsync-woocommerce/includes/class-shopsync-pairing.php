<?php
/**
 * The pairing of shop customers with ERP contractors, and the ERP order behind a shop order, shown where
 * people look: the users list, the user screen, My Account and the admin order screen.
 *
 * shopsync writes the pairing into customer meta `_shopsync_pairing` ({status, erp_contractor_code, detail})
 * and the ERP order into order meta `_shopsync_erp_order` ({number, state, invoices, buffered}).
 *
 * @package Shopsync_WooCommerce
 */

defined( 'ABSPATH' ) || exit;

/**
 * Admin column, user box, My Account notice, order box.
 */
class Shopsync_Pairing {

	const ORDER_META = '_shopsync_erp_order';

	/**
	 * Hooks the screens.
	 */
	public static function init() {
		add_filter( 'manage_users_columns', array( __CLASS__, 'users_column' ) );
		add_filter( 'manage_users_custom_column', array( __CLASS__, 'users_column_value' ), 10, 3 );
		add_action( 'show_user_profile', array( __CLASS__, 'user_box' ), 20 );
		add_action( 'edit_user_profile', array( __CLASS__, 'user_box' ), 20 );
		add_action( 'woocommerce_account_dashboard', array( __CLASS__, 'account_notice' ) );
		add_action( 'add_meta_boxes', array( __CLASS__, 'order_box' ), 10, 2 );
	}

	/**
	 * A user's pairing as shopsync wrote it (empty array: none).
	 *
	 * @param int $user_id User.
	 * @return array
	 */
	public static function pairing( $user_id ) {
		$value = get_user_meta( $user_id, Shopsync_Settings::get( 'shopsync_pairing_meta_key' ), true );
		if ( is_string( $value ) && '' !== $value ) {
			$decoded = json_decode( $value, true );
			$value   = is_array( $decoded ) ? $decoded : array( 'status' => $value );
		}
		return is_array( $value ) ? $value : array();
	}

	/**
	 * One line for people: paired with CODE / needs a person: why / not paired.
	 *
	 * @param array $pairing Pairing.
	 * @return string
	 */
	public static function describe( $pairing ) {
		$status = isset( $pairing['status'] ) ? (string) $pairing['status'] : '';
		$detail = isset( $pairing['detail'] ) ? (string) $pairing['detail'] : '';
		if ( 'paired' === $status ) {
			$code = isset( $pairing['erp_contractor_code'] ) && '' !== $pairing['erp_contractor_code']
				? (string) $pairing['erp_contractor_code']
				: ( isset( $pairing['erp_contractor_id'] ) ? '#' . (int) $pairing['erp_contractor_id'] : '' );
			/* translators: %s: ERP contractor code */
			return sprintf( __( 'Paired with contractor %s', 'shopsync-woocommerce' ), $code );
		}
		if ( 'needs_person' === $status ) {
			/* translators: %s: why a person must pair this customer */
			return sprintf( __( 'Needs a person: %s', 'shopsync-woocommerce' ), $detail );
		}
		if ( 'invalid_nip' === $status ) {
			/* translators: %s: details */
			return sprintf( __( 'Not paired: invalid NIP (%s)', 'shopsync-woocommerce' ), $detail );
		}
		return __( 'Not paired', 'shopsync-woocommerce' );
	}

	/**
	 * Adds the column to Users.
	 *
	 * @param array $columns Columns.
	 * @return array
	 */
	public static function users_column( $columns ) {
		$columns['shopsync_pairing'] = __( 'ERP pairing', 'shopsync-woocommerce' );
		return $columns;
	}

	/**
	 * The column's value.
	 *
	 * @param string $output  Output so far.
	 * @param string $column  Column id.
	 * @param int    $user_id User.
	 * @return string
	 */
	public static function users_column_value( $output, $column, $user_id ) {
		if ( 'shopsync_pairing' !== $column ) {
			return $output;
		}
		$pairing = self::pairing( $user_id );
		$status  = isset( $pairing['status'] ) ? $pairing['status'] : 'none';
		return '<span class="shopsync-pairing shopsync-pairing-' . esc_attr( $status ) . '">' . esc_html( self::describe( $pairing ) ) . '</span>';
	}

	/**
	 * The box on the user screen.
	 *
	 * @param WP_User $user User being shown.
	 */
	public static function user_box( $user ) {
		$pairing = self::pairing( $user->ID );
		echo '<h2>' . esc_html__( 'Symfonia ERP (shopsync)', 'shopsync-woocommerce' ) . '</h2>';
		echo '<table class="form-table" role="presentation"><tr><th>' . esc_html__( 'ERP pairing', 'shopsync-woocommerce' ) . '</th><td id="shopsync-pairing">' . esc_html( self::describe( $pairing ) ) . '</td></tr>';
		if ( ! empty( $pairing['updated'] ) ) {
			echo '<tr><th>' . esc_html__( 'Checked', 'shopsync-woocommerce' ) . '</th><td>' . esc_html( (string) $pairing['updated'] ) . '</td></tr>';
		}
		echo '</table>';
	}

	/**
	 * In My Account: whether the customer's company account is recognised.
	 */
	public static function account_notice() {
		$pairing = self::pairing( get_current_user_id() );
		$status  = isset( $pairing['status'] ) ? $pairing['status'] : '';
		if ( 'paired' === $status ) {
			$text = __( 'Your company account is recognised: your orders are invoiced to your company, at your prices.', 'shopsync-woocommerce' );
		} elseif ( 'needs_person' === $status ) {
			$text = __( 'We are checking your company details; your account will be recognised shortly.', 'shopsync-woocommerce' );
		} elseif ( 'invalid_nip' === $status ) {
			$text = __( 'The NIP on your account is not valid: please correct it in your billing address.', 'shopsync-woocommerce' );
		} else {
			return;
		}
		echo '<p class="shopsync-account-status woocommerce-info">' . esc_html( $text ) . '</p>';
	}

	/**
	 * The ERP order box on the admin order screen (classic posts and WooCommerce's order tables).
	 *
	 * @param string $screen_id Screen.
	 * @param mixed  $item      Post or order being edited.
	 */
	public static function order_box( $screen_id, $item = null ) {
		foreach ( array( 'shop_order', 'woocommerce_page_wc-orders' ) as $screen ) {
			add_meta_box( 'shopsync-erp-order', __( 'Symfonia ERP', 'shopsync-woocommerce' ), array( __CLASS__, 'order_box_content' ), $screen, 'side', 'default' );
		}
	}

	/**
	 * The box's content: the ERP order's number and state, once shopsync has imported it.
	 *
	 * @param mixed $item Post or order.
	 */
	public static function order_box_content( $item ) {
		$order = $item instanceof WC_Order ? $item : wc_get_order( $item instanceof WP_Post ? $item->ID : 0 );
		$info  = $order ? $order->get_meta( self::ORDER_META, true ) : array();
		if ( is_string( $info ) && '' !== $info ) {
			$info = json_decode( $info, true );
		}
		echo '<div id="shopsync-erp-order-info">';
		if ( ! is_array( $info ) || empty( $info ) ) {
			echo '<p>' . esc_html__( 'Not in the ERP yet.', 'shopsync-woocommerce' ) . '</p></div>';
			return;
		}
		$states = array(
			'new'       => __( 'new', 'shopsync-woocommerce' ),
			'partial'   => __( 'partly realised', 'shopsync-woocommerce' ),
			'realised'  => __( 'realised', 'shopsync-woocommerce' ),
			'cancelled' => __( 'cancelled', 'shopsync-woocommerce' ),
		);
		$number = isset( $info['number'] ) && '' !== $info['number'] ? (string) $info['number'] : __( 'in the ERP buffer, not numbered yet', 'shopsync-woocommerce' );
		$state  = isset( $info['state'], $states[ $info['state'] ] ) ? $states[ $info['state'] ] : '';
		echo '<p>' . esc_html__( 'ERP order:', 'shopsync-woocommerce' ) . ' <strong>' . esc_html( $number ) . '</strong></p>';
		echo '<p>' . esc_html__( 'State:', 'shopsync-woocommerce' ) . ' ' . esc_html( $state ) . '</p>';
		if ( ! empty( $info['invoices'] ) && is_array( $info['invoices'] ) ) {
			echo '<p>' . esc_html__( 'Invoices:', 'shopsync-woocommerce' ) . ' ' . esc_html( implode( ', ', array_map( 'strval', $info['invoices'] ) ) ) . '</p>';
		}
		echo '</div>';
	}
}
