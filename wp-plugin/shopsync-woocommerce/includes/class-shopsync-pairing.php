<?php
/**
 * The pairing of shop customers with ERP contractors, and the ERP order behind a shop order, shown where
 * people look: the users list, the user screen, My Account and the admin order screen.
 *
 * shopsync writes the pairing into customer meta `_shopsync_pairing` ({status, erp_contractor_code, detail,
 * candidates, request_done, request_error}) and the ERP order into order meta `_shopsync_erp_order` ({number,
 * state, invoices, buffered}). A shop manager's choice goes into customer meta `_shopsync_pairing_request`
 * ({id, action, contractor_id or contractor_code, confirm_nip_differs, by, at}); shopsync carries it out on its
 * next look at the customer (outbound only: the office calls the shop, never the other way) and writes the
 * result back with the request's id.
 *
 * @package Shopsync_WooCommerce
 */

defined( 'ABSPATH' ) || exit;

/**
 * Admin column, user box, My Account notice, order box.
 */
class Shopsync_Pairing {

	const ORDER_META   = '_shopsync_erp_order';
	const REQUEST_META = '_shopsync_pairing_request';
	const NEEDS_PERSON = array( 'needs_person', 'invalid_nip', 'no_nip' );

	/**
	 * Hooks the screens.
	 */
	public static function init() {
		add_filter( 'manage_users_columns', array( __CLASS__, 'users_column' ) );
		add_filter( 'manage_users_custom_column', array( __CLASS__, 'users_column_value' ), 10, 3 );
		add_action( 'show_user_profile', array( __CLASS__, 'user_box' ), 20 );
		add_action( 'edit_user_profile', array( __CLASS__, 'user_box' ), 20 );
		add_action( 'edit_user_profile_update', array( __CLASS__, 'save_request' ) );
		add_filter( 'views_users', array( __CLASS__, 'users_view' ) );
		add_action( 'pre_get_users', array( __CLASS__, 'users_filter' ) );
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
	 * @param array $pairing     Pairing.
	 * @param bool  $with_detail With why (contractors' names and codes: for shop managers only).
	 * @return string
	 */
	public static function describe( $pairing, $with_detail = true ) {
		$status = isset( $pairing['status'] ) ? (string) $pairing['status'] : '';
		$detail = isset( $pairing['detail'] ) && $with_detail ? (string) $pairing['detail'] : '';
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
	 * Whether the current user may see and change pairings (shop managers and administrators).
	 *
	 * @param int $user_id The customer.
	 * @return bool
	 */
	public static function may_pair( $user_id ) {
		return current_user_can( 'manage_woocommerce' ) && current_user_can( 'edit_user', $user_id );
	}

	/**
	 * The shop manager's last request for a user (empty array: none).
	 *
	 * @param int $user_id User.
	 * @return array
	 */
	public static function request( $user_id ) {
		$value = get_user_meta( $user_id, self::REQUEST_META, true );
		return is_array( $value ) ? $value : array();
	}

	/**
	 * The box on the user screen: the pairing; for shop managers also the candidates, a contractor code and the
	 * NIP confirmation, saved with the user as a request shopsync carries out.
	 *
	 * @param WP_User $user User being shown.
	 */
	public static function user_box( $user ) {
		$pairing = self::pairing( $user->ID );
		echo '<h2>' . esc_html__( 'Symfonia ERP (shopsync)', 'shopsync-woocommerce' ) . '</h2>';
		$manager = self::may_pair( $user->ID );
		echo '<table class="form-table" role="presentation"><tr><th>' . esc_html__( 'ERP pairing', 'shopsync-woocommerce' ) . '</th><td id="shopsync-pairing">' . esc_html( self::describe( $pairing, $manager ) ) . '</td></tr>';
		if ( ! empty( $pairing['updated'] ) ) {
			echo '<tr><th>' . esc_html__( 'Checked', 'shopsync-woocommerce' ) . '</th><td>' . esc_html( (string) $pairing['updated'] ) . '</td></tr>';
		}
		if ( ! $manager ) {
			echo '</table>';
			return;
		}
		$request = self::request( $user->ID );
		$done    = isset( $pairing['request_done'] ) ? (string) $pairing['request_done'] : '';
		if ( ! empty( $request['id'] ) && (string) $request['id'] !== $done ) {
			/* translators: 1: who asked, 2: when */
			$waiting = sprintf( __( 'Waiting for the ERP: %1$s asked at %2$s; shopsync carries it out on its next look.', 'shopsync-woocommerce' ), (string) ( $request['by'] ?? '' ), (string) ( $request['at'] ?? '' ) );
			echo '<tr><th></th><td id="shopsync-pairing-waiting" class="notice notice-info inline"><p>' . esc_html( $waiting ) . '</p></td></tr>';
		} elseif ( ! empty( $pairing['request_error'] ) && '' !== $done ) {
			echo '<tr><th></th><td id="shopsync-pairing-refused" class="notice notice-error inline"><p>' . esc_html( (string) $pairing['request_error'] ) . '</p></td></tr>';
		}
		wp_nonce_field( 'shopsync_pairing_' . $user->ID, 'shopsync_pairing_nonce' );
		$candidates = isset( $pairing['candidates'] ) && is_array( $pairing['candidates'] ) ? $pairing['candidates'] : array();
		if ( $candidates ) {
			echo '<tr><th>' . esc_html__( 'ERP contractors with this NIP', 'shopsync-woocommerce' ) . '</th><td><table id="shopsync-candidates" class="widefat striped"><tbody>';
			foreach ( $candidates as $k ) {
				$id = isset( $k['id'] ) ? (int) $k['id'] : 0;
				echo '<tr><td><input type="radio" name="shopsync_pair_contractor" value="' . esc_attr( (string) $id ) . '" id="shopsync-candidate-' . esc_attr( (string) $id ) . '"></td><td><label for="shopsync-candidate-' . esc_attr( (string) $id ) . '"><strong>' . esc_html( (string) ( $k['code'] ?? '' ) ) . '</strong> ' . esc_html( (string) ( $k['name'] ?? '' ) ) . '</label></td><td>NIP ' . esc_html( (string) ( $k['nip'] ?? '' ) ) . '</td><td>' . esc_html( (string) ( $k['city'] ?? '' ) ) . '</td></tr>';
			}
			echo '</tbody></table></td></tr>';
		}
		echo '<tr><th><label for="shopsync-pair-code">' . esc_html__( 'Or an ERP contractor code', 'shopsync-woocommerce' ) . '</label></th><td><input type="text" class="regular-text" name="shopsync_pair_code" id="shopsync-pair-code" maxlength="40"></td></tr>';
		echo '<tr><th></th><td><label><input type="checkbox" name="shopsync_confirm_nip" value="1" id="shopsync-confirm-nip"> ' . esc_html__( "Pair even if the contractor's NIP differs from the customer's", 'shopsync-woocommerce' ) . '</label></td></tr>';
		if ( isset( $pairing['status'] ) && 'paired' === $pairing['status'] ) {
			echo '<tr><th></th><td><label><input type="checkbox" name="shopsync_unpair" value="1" id="shopsync-unpair"> ' . esc_html__( 'Unpair this customer', 'shopsync-woocommerce' ) . '</label></td></tr>';
		}
		echo '</table>';
	}

	/**
	 * Saves a shop manager's choice as a request for shopsync (with the user screen's own save).
	 *
	 * @param int $user_id The customer being saved.
	 */
	public static function save_request( $user_id ) {
		if ( ! self::may_pair( $user_id ) || ! isset( $_POST['shopsync_pairing_nonce'] ) ) {
			return;
		}
		if ( ! wp_verify_nonce( sanitize_text_field( wp_unslash( $_POST['shopsync_pairing_nonce'] ) ), 'shopsync_pairing_' . $user_id ) ) {
			return;
		}
		$chosen = isset( $_POST['shopsync_pair_contractor'] ) ? absint( $_POST['shopsync_pair_contractor'] ) : 0;
		$code   = isset( $_POST['shopsync_pair_code'] ) ? sanitize_text_field( wp_unslash( $_POST['shopsync_pair_code'] ) ) : '';
		$unpair = ! empty( $_POST['shopsync_unpair'] );
		if ( ! $chosen && '' === $code && ! $unpair ) {
			return;
		}
		$me      = wp_get_current_user();
		$request = array(
			'id'                  => wp_generate_uuid4(),
			'action'              => $unpair ? 'unpair' : 'pair',
			'contractor_id'       => $unpair ? 0 : $chosen,
			'contractor_code'     => $unpair ? '' : substr( $code, 0, 40 ),
			'confirm_nip_differs' => ! empty( $_POST['shopsync_confirm_nip'] ),
			'by'                  => $me->user_login,
			'at'                  => gmdate( 'Y-m-d H:i:s' ) . ' UTC',
		);
		update_user_meta( $user_id, self::REQUEST_META, $request );
		$what = $unpair ? 'unpair' : ( $chosen ? 'pair with contractor #' . $chosen : 'pair with contractor ' . $code );
		wc_get_logger()->info( sprintf( 'customer %d: %s asked to %s', $user_id, $me->user_login, $what ), array( 'source' => 'shopsync' ) );
	}

	/**
	 * "Needs a person" above the Users list.
	 *
	 * @param array $views Views.
	 * @return array
	 */
	public static function users_view( $views ) {
		if ( ! current_user_can( 'manage_woocommerce' ) ) {
			return $views;
		}
		$current = isset( $_GET['shopsync_pairing'] ) && 'needs_person' === $_GET['shopsync_pairing']; // phpcs:ignore WordPress.Security.NonceVerification.Recommended
		$url     = add_query_arg( 'shopsync_pairing', 'needs_person', admin_url( 'users.php' ) );
		$views['shopsync_needs_person'] = '<a href="' . esc_url( $url ) . '"' . ( $current ? ' class="current" aria-current="page"' : '' ) . '>' . esc_html__( 'Needs a person (ERP pairing)', 'shopsync-woocommerce' ) . '</a>';
		return $views;
	}

	/**
	 * The Users list filtered to customers whose pairing waits for a person.
	 *
	 * @param WP_User_Query $query Query.
	 */
	public static function users_filter( $query ) {
		if ( ! is_admin() || ! current_user_can( 'manage_woocommerce' ) || ! isset( $_GET['shopsync_pairing'] ) || 'needs_person' !== $_GET['shopsync_pairing'] ) { // phpcs:ignore WordPress.Security.NonceVerification.Recommended
			return;
		}
		$key   = Shopsync_Settings::get( 'shopsync_pairing_meta_key' );
		$terms = array( 'relation' => 'OR' );
		foreach ( self::NEEDS_PERSON as $status ) {
			$terms[] = array(
				'key'     => $key,
				'value'   => '"' . $status . '"',
				'compare' => 'LIKE',
			);
		}
		$query->set( 'meta_query', $terms );
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
