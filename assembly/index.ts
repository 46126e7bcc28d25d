// The one entry of both wasm builds. Every export is a kernel over pointers into this memory;
// the host (src/kernels) owns allocation, shapes and checks.
export { pack_b8, pack_a4, scale_rows, scale_cols } from './pack';
export { gemm_b8, gemm_a4, gemv_a4, panels_a4_8 } from './gemm';
export { pad2d, conv_panel_a4, im2col, im2col_ld, col2im_add, col2im_up2, dwconv, dw3x3_plane, dw3x3_s1, dw5x5_plane, dw5x5_s1, dw_plane, dw_sparse_plane, fill_channels, activate_inplace } from './conv';
export { pool_max2d, pool_avg2d, pool_global_avg, pool_global_max } from './pool';
export { norm_batch, norm_layer, norm_instance, softmax_last, softmax_axis, reduce_sum, reduce_max, reduce_min, arg_extreme, cumsum, lrn } from './norm';
export { transpose_2d, transpose_f32 } from './transpose';
export { resize_nearest_f32, resize_linear_f32 } from './resize';
export { winograd_f23_weights, conv3x3_f23, f23_rows, f23_groups } from './winograd';
export { unary_apply, unary_hswish_affine } from './unary';
export { eltwise_binary4 } from './eltwise';
export { prune_abs, prune_square, prune_abs_scale, prune_random_scores, prune_count_nonzero, prune_hist, prune_threshold, prune_apply_threshold, prune_rows, prune_nm, prune_block_l1_1x4, prune_block_l1_4x1, prune_block_apply } from './prune';
export { channel_lnorm, gather_channels } from './structured';
export { spmm_csr } from './sparse';
export { spmm_bsr1x4, spmm_bsr1x4_inplace } from './sparse_block';
export { spmm_nm24 } from './sparse_nm';
export { qgemm_a4, qgemm_b8 } from './quant';
export { spmv_csr } from './spmv';
export { spconv_direct, spconv_direct_flat, spconv_rows, pad2d_split } from './sparse-direct';
export { grad_pack_rows4, grad_pack_rows8, grad_pack_cols4, grad_pack_cols8, gemm_packed } from './grad-pack';
export { grad_im2col_rows8, grad_conv_flip_weights, grad_dw_filter, grad_dw_filter3x3, grad_dw_input, grad_bias_nchw } from './grad-conv';
export { grad_maxpool2d_fwd, grad_maxpool2d_bwd, grad_avgpool2d_bwd, grad_global_avg_bwd } from './grad-pool';
export { grad_act, grad_dropout_fwd, grad_dropout_bwd } from './grad-act';
export { grad_bn_train_fwd, grad_bn_bwd, grad_ce_check_labels, grad_softmax_ce } from './grad-norm';
export { optim_sgd, optim_adam, optim_sumsq, optim_scale, optim_apply_mask } from './optim';
export { chol_f64, trsm_lower_f64, trsm_lower_t_f64, gemm_f64 } from './linalg';
export { copy_f32, fill_f32 } from './copy';

/** First free byte after static data: where the host's heap starts. */
export function heap_base(): usize {
  return __heap_base;
}

// 1 in the relaxed build, 0 in the simd build, so a host handed a Module can tell which it got.
export const flavor_relaxed: i32 = ASC_FEATURE_RELAXED_SIMD ? 1 : 0;

// The kernel ABI the host code (src/wasm/abi.ts) was written against: bumped whenever an export is
// added, removed or changes meaning, so a module from another version is refused at load.
export const abi_version: i32 = 8;
