//! The expansion: checks the `async fn`'s signature, then writes the plain
//! `fn` that builds a runtime from the arguments and runs the body on it
//! with `block_on`. On misuse it writes the error (naming the fix) and,
//! where it can, the function with default arguments, so that only the real
//! error is reported.

use proc_macro2::TokenStream;
use quote::quote;
use syn::{Attribute, ItemFn, ReturnType};

use crate::args::{self, Args, Flavor, Macro};

/// Expands `#[keen::main]` or `#[keen::test]` (`which`) with `args` on `item`.
pub(crate) fn expand(which: Macro, args: TokenStream, item: TokenStream) -> TokenStream {
    let input: ItemFn = match syn::parse2(item.clone()) {
        Ok(input) => input,
        // Not a function: rustc's own message for the item, plus ours.
        Err(e) => return with_error(item, e),
    };
    if let Err(e) = check_signature(which, &input) {
        // No expansion can be right for this signature; a stand-in `main`
        // keeps rustc from adding "`main` function not found".
        let stand_in = if which == Macro::Main && input.sig.ident == "main" {
            quote! { fn main() {} }
        } else {
            TokenStream::new()
        };
        return with_error(stand_in, e);
    }
    let async_error = input.sig.asyncness.is_none().then(|| {
        let msg = format!(
            "the `async` keyword is missing from the function declaration: `{}` runs an \
             `async fn`; write `async fn {}`",
            which.name(),
            input.sig.ident
        );
        syn::Error::new_spanned(input.sig.fn_token, msg)
    });
    match (async_error, args::parse(which, args)) {
        (None, Ok(args)) => write(which, input, &args),
        (Some(e), _) | (None, Err(e)) => with_error(write(which, input, &Args::defaults(which)), e),
    }
}

fn with_error(mut tokens: TokenStream, error: syn::Error) -> TokenStream {
    tokens.extend(error.into_compile_error());
    tokens
}

/// What no arguments can fix: parameters, generics, a second test attribute.
fn check_signature(which: Macro, input: &ItemFn) -> syn::Result<()> {
    if !input.sig.inputs.is_empty() {
        let fix = match which {
            Macro::Main => "; read command-line arguments with `std::env::args()`",
            Macro::Test => "",
        };
        let msg = format!(
            "a `{}` function cannot take parameters: remove them{fix}",
            which.name()
        );
        return Err(syn::Error::new_spanned(&input.sig.inputs, msg));
    }
    if !input.sig.generics.params.is_empty() || input.sig.generics.where_clause.is_some() {
        let msg = format!(
            "a `{}` function cannot be generic: remove the generic parameters",
            which.name()
        );
        return Err(syn::Error::new_spanned(&input.sig.generics, msg));
    }
    if which == Macro::Test {
        if let Some(attr) = input.attrs.iter().find(|a| is_test_attribute(a)) {
            let msg = "`#[keen::test]` already makes this a test: remove the `#[test]` attribute";
            return Err(syn::Error::new_spanned(attr, msg));
        }
    }
    Ok(())
}

/// `#[test]` or a prelude path to it (`#[core::prelude::v1::test]`).
fn is_test_attribute(attr: &Attribute) -> bool {
    match &attr.meta {
        syn::Meta::Path(path) => {
            let last = path.segments.last().is_some_and(|s| s.ident == "test");
            let single = path.segments.len() == 1 && path.leading_colon.is_none();
            let prelude = path.segments.iter().any(|s| s.ident == "prelude");
            last && (single || prelude)
        }
        _ => false,
    }
}

/// The plain `fn`: attributes kept (`#[test]` first for a test), the body an
/// `async` block handed to a runtime built from `args`.
fn write(which: Macro, mut input: ItemFn, args: &Args) -> TokenStream {
    input.sig.asyncness = None;
    let krate = match &args.crate_path {
        Some(path) => quote! { #path },
        None => quote! { ::keen },
    };
    let mut builder = match args.flavor {
        Flavor::CurrentThread => quote! { #krate::runtime::Builder::new_current_thread() },
        Flavor::MultiThread => quote! { #krate::runtime::Builder::new_multi_thread() },
    };
    if let Some(n) = args.worker_threads {
        builder = quote! { #builder.worker_threads(#n) };
    }
    if let Some(paused) = args.start_paused {
        builder = quote! { #builder.start_paused(#paused) };
    }
    if let Some(eager) = args.eager {
        builder = quote! { #builder.eager(#eager) };
    }
    let block = &input.block;
    let body = match which {
        Macro::Main => quote! { let body = async #block; },
        Macro::Test => {
            // Tests run one `block_on` instantiation for all of them: the
            // body behind `Pin<&mut dyn Future>` (compile time, not speed).
            let output = match &input.sig.output {
                ReturnType::Default => quote! { () },
                ReturnType::Type(_, ty) => quote! { #ty },
            };
            quote! {
                let body = async #block;
                let body = ::core::pin::pin!(body);
                let body: ::core::pin::Pin<
                    &mut dyn ::core::future::Future<Output = #output>,
                > = body;
            }
        }
    };
    let test_attr = match which {
        Macro::Main => TokenStream::new(),
        Macro::Test => quote! { #[::core::prelude::v1::test] },
    };
    // syn puts the body's inner attributes (`#![allow(..)]`) with the
    // outer ones; they must open the new body, not precede the `fn`.
    let (inner, attrs): (Vec<_>, Vec<_>) = input
        .attrs
        .iter()
        .partition(|attr| matches!(attr.style, syn::AttrStyle::Inner(_)));
    let vis = &input.vis;
    let sig = &input.sig;
    quote! {
        #test_attr
        #(#attrs)*
        #vis #sig {
            #(#inner)*
            #body
            #builder
                .build()
                .expect("failed to build the keen runtime")
                .block_on(body)
        }
    }
}
