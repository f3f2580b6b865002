//! The macros' arguments: parsing `flavor = "..."`, `worker_threads = N`,
//! `start_paused = bool`, `eager = bool` and `crate = "path"` into an
//! [`Args`], and checking that they fit together. Every error names the fix.

use proc_macro2::Span;
use syn::parse::Parser;
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Expr, ExprLit, Lit, Meta, Token};

/// Which macro is being expanded: decides the default flavour and the
/// attribute's name in messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Macro {
    /// `#[keen::main]`: multi-thread by default.
    Main,
    /// `#[keen::test]`: current-thread by default.
    Test,
}

impl Macro {
    /// The attribute as the user writes it, for messages.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Macro::Main => "#[keen::main]",
            Macro::Test => "#[keen::test]",
        }
    }

    fn default_flavor(self) -> Flavor {
        match self {
            Macro::Main => Flavor::MultiThread,
            Macro::Test => Flavor::CurrentThread,
        }
    }
}

/// The runtime flavour, as `flavor = "..."` names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Flavor {
    /// `"current_thread"`: `Builder::new_current_thread()`.
    CurrentThread,
    /// `"multi_thread"`: `Builder::new_multi_thread()`.
    MultiThread,
}

/// What the arguments ask for, checked; `None` leaves the builder's default.
pub(crate) struct Args {
    /// The runtime flavour (given or the macro's default).
    pub(crate) flavor: Flavor,
    /// `Builder::worker_threads`; only with [`Flavor::MultiThread`].
    pub(crate) worker_threads: Option<usize>,
    /// `Builder::start_paused`; both flavours.
    pub(crate) start_paused: Option<bool>,
    /// `Builder::eager`; both flavours.
    pub(crate) eager: Option<bool>,
    /// Where the `keen` crate is (`crate = "..."`); `::keen` if absent.
    pub(crate) crate_path: Option<syn::Path>,
}

impl Args {
    /// The arguments of an attribute that failed: the macro's defaults, so
    /// the function still expands and the user sees only the real error.
    pub(crate) fn defaults(which: Macro) -> Args {
        Args {
            flavor: which.default_flavor(),
            worker_threads: None,
            start_paused: None,
            eager: None,
            crate_path: None,
        }
    }
}

const ACCEPTED: &str =
    "`flavor`, `worker_threads`, `start_paused`, `eager` and `crate` (the path to keen)";

/// Parses and checks the attribute's arguments.
pub(crate) fn parse(which: Macro, tokens: proc_macro2::TokenStream) -> syn::Result<Args> {
    let metas = Punctuated::<Meta, Token![,]>::parse_terminated.parse2(tokens)?;
    let mut flavor: Option<Flavor> = None;
    let mut worker_threads: Option<(usize, Span)> = None;
    let mut start_paused: Option<bool> = None;
    let mut eager: Option<bool> = None;
    let mut crate_path: Option<syn::Path> = None;
    let mut seen: Vec<String> = Vec::new();

    for meta in metas {
        let name = meta
            .path()
            .get_ident()
            .map(ToString::to_string)
            .unwrap_or_else(|| path_text(meta.path()));
        let known = ["flavor", "worker_threads", "start_paused", "eager", "crate"];
        if !known.contains(&name.as_str()) {
            let msg = format!(
                "unknown argument `{name}` to `{}`; the accepted arguments are {ACCEPTED}",
                which.name()
            );
            return Err(syn::Error::new_spanned(meta.path(), msg));
        }
        let value = match &meta {
            Meta::NameValue(nv) => &nv.value,
            _ => {
                let msg = format!(
                    "`{name}` needs a value: write `{name} = {}`",
                    example(&name)
                );
                return Err(syn::Error::new_spanned(&meta, msg));
            }
        };
        if seen.contains(&name) {
            let msg = format!("`{name}` is given more than once; keep one");
            return Err(syn::Error::new_spanned(meta.path(), msg));
        }
        seen.push(name.clone());
        match name.as_str() {
            "flavor" => flavor = Some(parse_flavor(value)?),
            "worker_threads" => {
                let n = parse_int(&name, value)?;
                if n == 0 {
                    let msg = "`worker_threads` must be at least 1";
                    return Err(syn::Error::new_spanned(value, msg));
                }
                worker_threads = Some((n, meta.span()));
            }
            "start_paused" => start_paused = Some(parse_bool(&name, value)?),
            "eager" => eager = Some(parse_bool(&name, value)?),
            _ => crate_path = Some(parse_path(value)?),
        }
    }

    let given_flavor = flavor;
    let flavor = flavor.unwrap_or(which.default_flavor());
    if let (Flavor::CurrentThread, Some((_, span))) = (flavor, worker_threads) {
        let msg = if given_flavor.is_some() {
            "`worker_threads` sets the workers of a multi-thread runtime: use \
             `flavor = \"multi_thread\"` or remove `worker_threads`"
                .to_owned()
        } else {
            format!(
                "`{}` runs a current-thread runtime by default, which has no worker threads: \
                 add `flavor = \"multi_thread\"` or remove `worker_threads`",
                which.name()
            )
        };
        return Err(syn::Error::new(span, msg));
    }
    Ok(Args {
        flavor,
        worker_threads: worker_threads.map(|(n, _)| n),
        start_paused,
        eager,
        crate_path,
    })
}

fn example(name: &str) -> &'static str {
    match name {
        "flavor" => "\"multi_thread\"",
        "worker_threads" => "4",
        "crate" => "\"keen\"",
        _ => "true",
    }
}

fn path_text(path: &syn::Path) -> String {
    let segments: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
    segments.join("::")
}

fn literal(value: &Expr) -> Option<&Lit> {
    match value {
        Expr::Lit(ExprLit { lit, .. }) => Some(lit),
        _ => None,
    }
}

fn parse_flavor(value: &Expr) -> syn::Result<Flavor> {
    let fix = "use `flavor = \"current_thread\"` or `flavor = \"multi_thread\"`";
    match literal(value) {
        Some(Lit::Str(s)) => match s.value().as_str() {
            "current_thread" => Ok(Flavor::CurrentThread),
            "multi_thread" => Ok(Flavor::MultiThread),
            other => {
                let msg = format!("unknown runtime flavor `{other}`; {fix}");
                Err(syn::Error::new_spanned(s, msg))
            }
        },
        _ => {
            let msg = format!("`flavor` takes a string; {fix}");
            Err(syn::Error::new_spanned(value, msg))
        }
    }
}

fn parse_int(name: &str, value: &Expr) -> syn::Result<usize> {
    match literal(value) {
        Some(Lit::Int(i)) => i.base10_parse::<usize>(),
        _ => {
            let msg = format!("`{name}` takes a whole number, e.g. `{name} = 4`");
            Err(syn::Error::new_spanned(value, msg))
        }
    }
}

fn parse_bool(name: &str, value: &Expr) -> syn::Result<bool> {
    match literal(value) {
        Some(Lit::Bool(b)) => Ok(b.value),
        _ => {
            let msg = format!("`{name}` takes `true` or `false`, e.g. `{name} = true`");
            Err(syn::Error::new_spanned(value, msg))
        }
    }
}

fn parse_path(value: &Expr) -> syn::Result<syn::Path> {
    match literal(value) {
        Some(Lit::Str(s)) => s.parse::<syn::Path>().map_err(|_| {
            let msg = format!(
                "`crate` takes the path to the keen crate as a string, e.g. `crate = \"keen\"`; \
                 `{}` is not a path",
                s.value()
            );
            syn::Error::new_spanned(s, msg)
        }),
        _ => {
            let msg =
                "`crate` takes the path to the keen crate as a string, e.g. `crate = \"keen\"`";
            Err(syn::Error::new_spanned(value, msg))
        }
    }
}
