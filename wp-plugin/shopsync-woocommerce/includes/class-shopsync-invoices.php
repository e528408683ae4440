<?php
/**
 * The ERP's invoices in the customer's account: shopsync keeps each printout (PDF) on the shop order, in order
 * meta `_shopsync_invoices` ([{number, sha1, created, current, ksef_number, pdf (base64)}], newest last): in the
 * database,
 * never in the public uploads folder. This class lists them on the order and serves a PDF only to the order's
 * customer and to the shop's managers; a corrected invoice is the current one, earlier ones stay listed.
 *
 * @package Shopsync_WooCommerce
 */

defined( 'ABSPATH' ) || exit;

/**
 * My Account's download link and list, and the checked download itself.
 */
class Shopsync_Invoices {

	const META = '_shopsync_invoices';

	/**
	 * Hooks the account pages and the download.
	 */
	public static function init() {
		add_filter( 'woocommerce_my_account_my_orders_actions', array( __CLASS__, 'order_action' ), 10, 2 );
		add_action( 'woocommerce_order_details_after_order_table', array( __CLASS__, 'order_details' ) );
		add_action( 'template_redirect', array( __CLASS__, 'serve' ) );
	}

	/**
	 * An order's invoices as shopsync wrote them (empty array: none).
	 *
	 * @param WC_Order $order Order.
	 * @return array
	 */
	public static function invoices( $order ) {
		$value = $order->get_meta( self::META, true );
		if ( is_string( $value ) && '' !== $value ) {
			$value = json_decode( $value, true );
		}
		return is_array( $value ) ? array_values( array_filter( $value, 'is_array' ) ) : array();
	}

	/**
	 * The download address of one invoice of an order.
	 *
	 * @param WC_Order $order Order.
	 * @param array    $entry Invoice.
	 * @return string
	 */
	public static function url( $order, $entry ) {
		return add_query_arg(
			array(
				'shopsync_invoice' => $order->get_id(),
				'invoice'          => isset( $entry['sha1'] ) ? (string) $entry['sha1'] : '',
			),
			home_url( '/' )
		);
	}

	/**
	 * The current invoice of an order, or null.
	 *
	 * @param WC_Order $order Order.
	 * @return array|null
	 */
	public static function current( $order ) {
		$all = self::invoices( $order );
		foreach ( array_reverse( $all ) as $entry ) {
			if ( ! empty( $entry['current'] ) ) {
				return $entry;
			}
		}
		return $all ? end( $all ) : null;
	}

	/**
	 * "Download invoice" among the order's actions in My Account > Orders.
	 *
	 * @param array    $actions Actions.
	 * @param WC_Order $order   Order.
	 * @return array
	 */
	public static function order_action( $actions, $order ) {
		$entry = self::current( $order );
		if ( $entry ) {
			$actions['shopsync_invoice'] = array(
				'url'  => self::url( $order, $entry ),
				/* translators: %s: invoice number */
				'name' => sprintf( __( 'Download invoice %s', 'shopsync-woocommerce' ), (string) ( $entry['number'] ?? '' ) ),
			);
		}
		return $actions;
	}

	/**
	 * The order's invoices under its details (the customer's order page).
	 *
	 * @param WC_Order $order Order.
	 */
	public static function order_details( $order ) {
		$all = self::invoices( $order );
		if ( ! $all ) {
			return;
		}
		echo '<section class="shopsync-invoices"><h2>' . esc_html__( 'Invoices', 'shopsync-woocommerce' ) . '</h2><ul>';
		foreach ( array_reverse( $all ) as $entry ) {
			$label = ! empty( $entry['current'] ) ? __( 'current', 'shopsync-woocommerce' ) : __( 'earlier version', 'shopsync-woocommerce' );
			$ksef = (string) ( $entry['ksef_number'] ?? '' );
			echo '<li><a href="' . esc_url( self::url( $order, $entry ) ) . '">' . esc_html( (string) ( $entry['number'] ?? '' ) ) . '</a> (' . esc_html( $label ) . ')';
			if ( '' !== $ksef ) {
				/* translators: %s: the invoice's number in KSeF, the national e-invoice system */
				echo ' <span class="shopsync-ksef">' . esc_html( sprintf( __( 'KSeF number: %s', 'shopsync-woocommerce' ), $ksef ) ) . '</span>';
			}
			echo '</li>';
		}
		echo '</ul></section>';
	}

	/**
	 * Sends one invoice's PDF: to the order's customer and the shop's managers only; everyone else gets 403.
	 */
	public static function serve() {
		if ( ! isset( $_GET['shopsync_invoice'] ) ) { // phpcs:ignore WordPress.Security.NonceVerification.Recommended -- a link the customer opens; access is checked below
			return;
		}
		$order = wc_get_order( absint( $_GET['shopsync_invoice'] ) ); // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		$user  = get_current_user_id();
		$mine  = $order && $user && (int) $order->get_customer_id() === $user;
		if ( ! $order || ! $user || ( ! $mine && ! current_user_can( 'manage_woocommerce' ) ) ) {
			status_header( 403 );
			nocache_headers();
			echo esc_html__( 'This invoice is not yours to download.', 'shopsync-woocommerce' );
			exit;
		}
		$wanted = isset( $_GET['invoice'] ) ? preg_replace( '/[^0-9a-f]/', '', strtolower( sanitize_text_field( wp_unslash( $_GET['invoice'] ) ) ) ) : ''; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		foreach ( self::invoices( $order ) as $entry ) {
			if ( isset( $entry['sha1'], $entry['pdf'] ) && hash_equals( (string) $entry['sha1'], $wanted ) ) {
				$pdf = base64_decode( (string) $entry['pdf'], true ); // phpcs:ignore WordPress.PHP.DiscouragedPHPFunctions.obfuscation_base64_decode -- the printout as shopsync stored it
				if ( false === $pdf ) {
					break;
				}
				nocache_headers();
				header( 'Content-Type: application/pdf' );
				header( 'X-Content-Type-Options: nosniff' );
				header( 'Content-Disposition: attachment; filename="' . sanitize_file_name( 'faktura-' . (string) ( $entry['number'] ?? 'erp' ) . '.pdf' ) . '"' );
				header( 'Content-Length: ' . strlen( $pdf ) );
				echo $pdf; // phpcs:ignore WordPress.Security.EscapeOutput.OutputNotEscaped -- a PDF, sent as a file
				exit;
			}
		}
		status_header( 404 );
		echo esc_html__( 'No such invoice.', 'shopsync-woocommerce' );
		exit;
	}
}
